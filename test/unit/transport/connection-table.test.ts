import { ConnectionTable } from '../../../sip-gateway/src/transport/connection-table';

function table(): ConnectionTable<string> {
  const connections = new ConnectionTable<string>({ idleTimeoutMs: 60_000, unpinGraceMs: 10_000 });
  connections.add({ id: 'c1', transport: 'tcp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.1', remotePort: 4000, socket: 's1', openedMs: 0 });
  return connections;
}

describe('Class: ConnectionTable', () => {
  it('closes an unpinned connection once it has been idle for the timeout', () => {
    // Prepare
    const connections = table();
    connections.touch('c1', 30_000);

    // Act
    const before = connections.idleConnections(89_999).map((entry) => entry.id);
    const after = connections.idleConnections(90_000).map((entry) => entry.id);

    // Assess
    expect(before).toEqual([]);
    expect(after).toEqual(['c1']);
  });

  it('PTH-4: a connection used by a valid binding is never closed for idleness', () => {
    // Prepare
    const connections = table();
    connections.pin('c1');

    // Act
    const due = connections.idleConnections(24 * 3600 * 1000);

    // Assess
    expect(due).toEqual([]);
  });

  it('PTH-4: after its last binding ends, a connection stays for the 10 s grace period', () => {
    // Prepare
    const connections = table();
    connections.pin('c1');
    connections.pin('c1');
    connections.unpin('c1', 100_000);
    const stillPinned = connections.idleConnections(200_000).length;
    connections.unpin('c1', 300_000);

    // Act
    const inGrace = connections.idleConnections(309_999).length;
    const afterGrace = connections.idleConnections(310_000).length;

    // Assess
    expect(stillPinned).toBe(0);
    expect(inGrace).toBe(0);
    expect(afterGrace).toBe(1);
  });

  it('finds connections by peer and forgets them on removal', () => {
    // Prepare
    const connections = table();

    // Act
    const found = connections.findByPeer('tcp', '192.0.2.1', 4000)?.id;
    connections.remove('c1');

    // Assess
    expect(found).toBe('c1');
    expect(connections.findByPeer('tcp', '192.0.2.1', 4000)).toBeUndefined();
    expect(connections.pin('c1')).toBe(false);
    expect(connections.size).toBe(0);
  });
});
