/** Zone test helpers: signed records, views built from them, query packets. */
import dnsPacket, { type RecordType } from 'dns-packet';
import { KeyPair } from '../../shared/keys.ts';
import { signHeartbeat, verifyItem, type ZoneRecord } from '../../origin/zone/records.ts';
import type { StoredRecord } from '../../origin/zone/store.ts';
import { buildView, type ViewOptions, type ZoneView } from '../../origin/zone/view.ts';

export const ZONE = 'ela.test';

export async function heartbeatRecord(
  key: KeyPair,
  fields: {
    gateways?: string[];
    ns?: { host: string; addresses: string[]; port: number } | null;
    iat?: number;
    changedAt?: number;
    acme?: boolean;
  } = {},
  trusted = [key.id],
): Promise<ZoneRecord> {
  const iat = fields.iat ?? Date.now();
  const jws = await signHeartbeat(
    {
      zone: ZONE,
      seq: iat,
      iat,
      ns:
        fields.ns !== undefined
          ? fields.ns
          : {
              host: `ns-${key.id.toString().slice(0, 6).toLowerCase()}.${ZONE}`,
              addresses: ['192.0.2.53'],
              port: 53,
            },
      gateways: fields.gateways ?? [],
      changedAt: fields.changedAt ?? iat,
      acme: fields.acme ?? false,
    },
    key,
  );
  const checked = await verifyItem({ jws }, { zone: ZONE, trusted });
  if (!checked.ok) throw new Error(checked.reason);
  return checked.record;
}

export const stored = (record: ZoneRecord, receivedAt: number, version = 1): StoredRecord => ({
  record,
  receivedAt,
  version,
});

export const viewOptions = (over: Partial<ViewOptions> = {}): ViewOptions => ({
  zone: ZONE,
  ttlS: 30,
  aliveMs: 30_000,
  clockSkewMs: 60_000,
  caa: [{ flags: 0, tag: 'issue', value: 'letsencrypt.org' }],
  hostmaster: `hostmaster.${ZONE}`,
  currentOwner: () => undefined,
  ...over,
});

/** A view with one live super node (gateways 192.0.2.1 and 2001:db8::1) and an apex challenge value. */
export async function sampleView(now = Date.now()): Promise<{ view: ZoneView; key: KeyPair }> {
  const key = KeyPair.generate();
  const hb = await heartbeatRecord(key, {
    gateways: ['192.0.2.1', '2001:db8::1'],
    ns: { host: `ns1.${ZONE}`, addresses: ['192.0.2.53'], port: 53 },
    iat: now,
  });
  const view = buildView([stored(hb, now)], now, viewOptions());
  view.txt.set(`_acme-challenge.${ZONE}`, ['value-one']);
  return { view, key };
}

export function queryPacket(
  name: string,
  type: RecordType,
  options: {
    id?: number;
    edns?: boolean;
    cookie?: Buffer;
    ednsVersion?: number;
    flags?: number;
  } = {},
): Buffer {
  const additionals =
    options.edns || options.cookie
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: 1232,
            ednsVersion: options.ednsVersion ?? 0,
            flags: 0,
            options: options.cookie ? [{ code: 10, data: options.cookie }] : [],
          },
        ]
      : [];
  return dnsPacket.encode({
    id: options.id ?? 4242,
    type: 'query',
    flags: options.flags ?? dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals: additionals as never,
  });
}
