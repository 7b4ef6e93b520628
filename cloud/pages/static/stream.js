// Reads a streamed response as it arrives, split into records by a separator ("\n" for NDJSON,
// "\n\n" for server-sent events); a record split across network chunks is joined first.
export async function* records(response, separator) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf(separator)) >= 0) {
      const record = buf.slice(0, i);
      buf = buf.slice(i + separator.length);
      if (record) yield record;
    }
  }
}
