import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAN_IP, NatLab, natLabSupported, WAN_IP } from '../helpers/nat-lab.ts';

const support = natLabSupported();
const lab = new NatLab();

// The NAT itself: the lan host gets out, masqueraded; the wan side cannot get in.
describe.skipIf(!support.ok)('NAT lab (network namespaces + nftables MASQUERADE)', () => {
  beforeAll(() => lab.create());
  afterAll(() => lab.destroy());

  const server = (ip: string, port: number) =>
    `require("net").createServer(s=>{s.end(s.remoteAddress+"\\n")}).listen(${port},"${ip}",()=>console.log("up"))`;
  const client = (ip: string, port: number) =>
    `const s=require("net").connect(${port},"${ip}");s.setTimeout(1500,()=>{console.log("timeout");process.exit(0)});s.on("data",d=>{process.stdout.write(d);process.exit(0)});s.on("error",e=>{console.log("error "+e.code);process.exit(0)})`;

  async function listen(ns: string, ip: string, port: number) {
    const child = lab.spawn(ns, process.execPath, ['-e', server(ip, port)]);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
  }

  it('lets the lan host connect out, seen from outside as the router address', async () => {
    await listen(lab.wan, WAN_IP, 7001);
    const seen = lab.exec(lab.lan, process.execPath, ['-e', client(WAN_IP, 7001)]).trim();
    expect(seen).toBe('198.18.0.2');
  });

  it('gives the wan side no way in', async () => {
    await listen(lab.lan, LAN_IP, 7002);
    const result = lab.exec(lab.wan, process.execPath, ['-e', client(LAN_IP, 7002)]).trim();
    expect(result).toBe('timeout');
    const viaRouter = lab
      .exec(lab.wan, process.execPath, ['-e', client('198.18.0.2', 7002)])
      .trim();
    expect(['timeout', 'error ECONNREFUSED']).toContain(viaRouter);
  });
});

describe.runIf(!support.ok)('NAT lab unavailable', () => {
  it('says why it was skipped', () => {
    expect(support.why).toBeTruthy();
  });
});
