"""Where the server may connect on someone's say-so (a webhook URL, an OAuth client's metadata
document): public addresses only, unless an admin names the host.

A URL is checked when it is given and again before every connection (DNS can change): every
address its host resolves to must be globally routable, which refuses loopback, private (RFC
1918, ULA), link-local (and so cloud metadata at 169.254.169.254), carrier-grade NAT, multicast
and reserved ranges. `send` then connects to the very address that was checked, so a second DNS
answer cannot slip in between, follows no redirect and reads a bounded answer. Each use names
its own allow-list setting (`WEBHOOK_ALLOWED_HOSTS`, `OAUTH_CLIENT_DOCUMENT_ALLOWED_HOSTS`) of
host names (or literal addresses) on a clinic LAN that may be reached anyway.

An address is judged by what it reaches, whatever its spelling: an IPv6 address that
carries an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`,
NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, Teredo `2001::/32`) is judged by that IPv4
address (Teredo by both its server and its client). Any other IPv6 address must be
global unicast (`2000::/3`, as IANA allocates it), which refuses site-local
`fec0::/10`, the old 6bone `3ffe::/16`, the local-use NAT64 `64:ff9b:1::/48` and
every other deprecated or reserved range. A URL holding any control or format
character (NUL, CR, LF, TAB, DEL, C1 controls, bidirectional overrides …) is refused
as written, before anything strips or splits it.
"""
import ipaddress
import socket
import unicodedata
from urllib.parse import urlsplit

import urllib3
from flask import current_app


class RefusedUrl(ValueError):
    """The URL may not be connected to; the message says why."""


def allowed_hosts(setting):
    hosts = current_app.config.get(setting) or []
    if isinstance(hosts, str):
        hosts = hosts.split(",")
    return {h.strip().lower().strip("[]") for h in hosts if h.strip()}


def parse(url):
    """(scheme, host, port) of an http(s) URL with no user info; RefusedUrl otherwise."""
    if any(unicodedata.category(c).startswith("C") for c in url):
        raise RefusedUrl("Must not contain control characters (NUL, CR, LF, tab, …).")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedUrl("Not a valid URL.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedUrl("Must be an http:// or https:// URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("Must not contain a user name or password.")
    if parts.fragment:
        raise RefusedUrl("Must not contain a fragment.")
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052's well-known prefix
REFUSED_V6 = tuple(map(ipaddress.ip_network, (
    "3ffe::/16",  # 6bone, returned to IANA (RFC 3701)
    "2001:db8::/32", "3fff::/20",  # documentation (RFC 3849, RFC 9637)
    "2001:10::/28", "2001:20::/28",  # ORCHID, deprecated, and ORCHIDv2 (RFC 4843, RFC 7343)
)))
REFUSED_V4 = (ipaddress.ip_network("192.0.0.0/24"),)  # IETF protocol assignments (RFC 6890)


def embedded_ipv4(ip):
    """The IPv4 addresses an IPv6 address `ip` carries (empty when it carries none)."""
    if ip.ipv4_mapped:
        return [ip.ipv4_mapped]
    if int(ip) >> 32 == 0:  # IPv4-compatible ::a.b.c.d (deprecated), and :: and ::1
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip in NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour:
        return [ip.sixtofour]
    if ip.teredo:
        return list(ip.teredo)  # (server, client)
    return []


def is_public(address):
    """True when `address` (any spelling) reaches a globally routable unicast host."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6:
        carried = embedded_ipv4(ip)
        if carried:
            return all(map(is_public, map(str, carried)))
        if ip not in GLOBAL_UNICAST or any(ip in net for net in REFUSED_V6):
            return False
    elif any(ip in net for net in REFUSED_V4):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_private
                                 or ip.is_loopback or ip.is_link_local or ip.is_unspecified)


def resolve(url, allowed="WEBHOOK_ALLOWED_HOSTS"):
    """The addresses to connect to for `url`, all checked; RefusedUrl when any is refused.
    `allowed`: the setting that lists hosts an admin lets through anyway."""
    scheme, host, port = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedUrl(f"Host {host} does not resolve.")
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if host not in allowed_hosts(allowed):
        refused = [a for a in addresses if not is_public(a)]
        if refused or not addresses:
            raise RefusedUrl(f"Host {host} resolves to a private, loopback or link-local address; "
                             f"an admin can allow it with {allowed}.")
    return addresses


def send(method, url, address, headers, body=None, timeout=5, ca_certs=None, max_bytes=64 * 1024):
    """`method` `url` at the already-checked `address`: no redirects, at most `max_bytes` of the
    answer read. Returns (status, headers, body bytes, complete: the whole answer was read);
    raises urllib3's HTTPError on network failures."""
    scheme, host, port = parse(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    options = {"port": port, "timeout": urllib3.Timeout(total=timeout), "retries": False, "maxsize": 1}
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(address, server_hostname=host, assert_hostname=host,
                                           cert_reqs="CERT_REQUIRED", ca_certs=ca_certs, **options)
    else:
        pool = urllib3.HTTPConnectionPool(address, **options)
    try:
        response = pool.urlopen(method, path, body=body, headers={**headers, "host": parts.netloc},
                                redirect=False, assert_same_host=False, preload_content=False)
        try:
            data = response.read(max_bytes + 1, decode_content=False)  # as sent: nothing unzipped
        finally:
            response.close()
        return response.status, response.headers, data[:max_bytes], len(data) <= max_bytes
    finally:
        pool.close()
