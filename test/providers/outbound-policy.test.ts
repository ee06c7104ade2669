import { isAllowlisted, isPublicAddress } from '../../src/providers/outbound-policy';

// The address classification every outbound connection goes through.

describe('isPublicAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private 10/8'],
    ['172.16.0.1', 'private 172.16/12'],
    ['172.31.255.255', 'private 172.16/12'],
    ['192.168.1.1', 'private 192.168/16'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'CGNAT'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['fe80::1%eth0', 'IPv6 link-local with zone'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['ff02::1', 'IPv6 multicast'],
    ['2001:db8::1', 'IPv6 documentation'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::a00:1', 'NAT64 of 10.0.0.1'],
    ['64:ff9b:1::808:808', 'local-use NAT64 prefix'],
    ['2002:7f00:1::', '6to4 of loopback'],
    ['2002:a9fe:a9fe::1', '6to4 of 169.254.169.254'],
    ['::7f00:1', 'IPv4-compatible loopback'],
    ['2001::1', 'Teredo'],
    ['not-an-ip', 'not an address'],
    ['', 'empty'],
  ])('refuses %s (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    ['8.8.8.8'],
    ['20.42.0.1'],
    ['172.32.0.1'],
    ['2606:4700:4700::1111'],
    ['2a01:111:f100::1'],
    ['::ffff:8.8.8.8'],
    ['64:ff9b::808:808'],
    ['2002:808:808::1'],
  ])('allows public unicast %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('isAllowlisted', () => {
  const allowlist = [' Proxy.Internal ', 'acme.openai.azure.com:8443', '[::1]:9000', '10.1.2.3'];

  it('matches a host entry on any port, case-insensitively', () => {
    expect(isAllowlisted(allowlist, 'proxy.internal', 443)).toBe(true);
    expect(isAllowlisted(allowlist, 'PROXY.internal', 8080)).toBe(true);
    expect(isAllowlisted(allowlist, '10.1.2.3', 80)).toBe(true);
  });

  it('matches a host:port entry only on that port', () => {
    expect(isAllowlisted(allowlist, 'acme.openai.azure.com', 8443)).toBe(true);
    expect(isAllowlisted(allowlist, 'acme.openai.azure.com', 443)).toBe(false);
    expect(isAllowlisted(allowlist, '::1', 9000)).toBe(true);
    expect(isAllowlisted(allowlist, '[::1]', 9000)).toBe(true);
    expect(isAllowlisted(allowlist, '::1', 9001)).toBe(false);
  });

  it('does not match look-alikes or an empty allowlist', () => {
    expect(isAllowlisted(allowlist, 'evil-proxy.internal', 443)).toBe(false);
    expect(isAllowlisted(allowlist, 'proxy.internal.evil.com', 443)).toBe(false);
    expect(isAllowlisted([], 'localhost', 80)).toBe(false);
    expect(isAllowlisted([''], '', 80)).toBe(false);
  });
});
