// The network map page: reads /network.json every 30 s and draws it (uPlot for the plots).
// Plain browser script, no build step; every text from the data goes in as text, never as HTML.
(() => {
  const $ = (id) => document.getElementById(id);
  const plots = {};

  function text(tag, content, className) {
    const el = document.createElement(tag);
    el.textContent = content;
    if (className) el.className = className;
    return el;
  }

  function duration(s) {
    if (s === null) return '–';
    if (s < 120) return `${s} s`;
    if (s < 7200) return `${Math.round(s / 60)} min`;
    if (s < 172800) return `${Math.round(s / 3600)} h`;
    return `${Math.round(s / 86400)} d`;
  }

  function bytes(n) {
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) {
      n /= 1000;
      i++;
    }
    return `${n.toFixed(n < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
  }

  // Per-bucket totals become rates: each bucket divided by the seconds it counted.
  function rates(series, field) {
    return series[field].map((v, i) => (series.seconds[i] > 0 ? v / series.seconds[i] : null));
  }

  function draw(id, series, lines, format) {
    const el = $(id);
    const data = [series.t, ...lines.map((l) => rates(series, l.field))];
    const width = Math.max(280, el.clientWidth || 480);
    if (plots[id]) {
      plots[id].setData(data);
      return;
    }
    plots[id] = new uPlot(
      {
        width,
        height: 200,
        series: [
          {},
          ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, value: (_, v) => (v === null ? '–' : format(v)) })),
        ],
        axes: [{}, { values: (_, ticks) => ticks.map(format), size: 70 }],
        scales: { y: { range: (_, min, max) => [0, Math.max(1, max * 1.1)] } },
      },
      data,
      el,
    );
    el.dataset.points = String(series.t.length);
  }

  function render(map) {
    const up = map.superNodes.filter((s) => s.up).length;
    $('summary').textContent =
      `${map.nodesOnline.direct + map.nodesOnline.relay} nodes online (${map.nodesOnline.direct} direct, ` +
      `${map.nodesOnline.relay} relayed) · ${up} of ${map.superNodes.length} super nodes up · ` +
      `DHT about ${map.dhtSizeEstimate ?? '–'} nodes`;
    const body = $('supernodes').tBodies[0];
    body.replaceChildren(
      ...map.superNodes.map((s) => {
        const row = document.createElement('tr');
        const state = !s.up ? 'down' : s.fit ? 'up' : 'unfit';
        row.append(
          text('td', s.label),
          text('td', s.region ?? '–'),
          text('td', state, `state ${state}`),
          text('td', duration(s.uptimeS)),
          text('td', s.version ?? '–'),
          text('td', s.tunnelSessions === null ? '–' : String(s.tunnelSessions)),
        );
        return row;
      }),
    );
    const traffic = [
      { field: 'bytesToNodes', label: 'to nodes', color: '#2a6fdb' },
      { field: 'bytesFromNodes', label: 'from nodes', color: '#d9822b' },
    ];
    const requests = [
      { field: 'relayRequests', label: 'relayed req/s', color: '#2a9d57' },
      { field: 'apiRequests', label: 'registry req/s', color: '#8a4fd8' },
    ];
    const perSecond = (v) => (v < 10 ? v.toFixed(2) : v.toFixed(0));
    const bytesPerSecond = (v) => `${bytes(v)}/s`;
    draw('traffic-hour', map.hour, traffic, bytesPerSecond);
    draw('traffic-day', map.day, traffic, bytesPerSecond);
    draw('requests-hour', map.hour, requests, perSecond);
    draw('requests-day', map.day, requests, perSecond);
    const listed = $('listed');
    listed.replaceChildren(
      ...(map.listed.length
        ? map.listed.map((n) => {
            const li = document.createElement('li');
            const a = text('a', n.name);
            a.href = n.url;
            li.append(a, text('span', ` ${n.mode === 'relay' ? 'relayed' : 'direct'}`, 'mode'));
            return li;
          })
        : [text('li', 'None listed.', 'note')]),
    );
    document.body.dataset.ready = 'true';
  }

  async function refresh() {
    try {
      const res = await fetch('/network.json', { cache: 'no-store' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      render(await res.json());
    } catch (e) {
      $('summary').textContent = `The map could not be loaded (${e.message}).`;
    }
  }

  refresh();
  setInterval(refresh, 30_000);
})();
