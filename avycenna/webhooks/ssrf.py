"""Where a webhook may be sent: public addresses only, unless an admin names the host.

A URL is checked when it is registered and again before every delivery (DNS can
change): every address its host resolves to must be globally routable, which
refuses loopback, private (RFC 1918, ULA), link-local (and so cloud metadata at
169.254.169.254), carrier-grade NAT, multicast and reserved ranges. The sender
then connects to the very address that was checked, so a second DNS answer cannot
slip in between. `WEBHOOK_ALLOWED_HOSTS` lists host names (or literal addresses)
on a clinic LAN that may be reached anyway.
"""
import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app


class RefusedUrl(ValueError):
    """The URL may not be used as a webhook target; the message says why."""


def allowed_hosts():
    hosts = current_app.config.get("WEBHOOK_ALLOWED_HOSTS") or []
    if isinstance(hosts, str):
        hosts = hosts.split(",")
    return {h.strip().lower().strip("[]") for h in hosts if h.strip()}


def parse(url):
    """(scheme, host, port) of an http(s) URL with no user info; RefusedUrl otherwise."""
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


def is_public(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(url):
    """The addresses to connect to for `url`, all checked; RefusedUrl when any is refused."""
    scheme, host, port = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedUrl(f"Host {host} does not resolve.")
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if host not in allowed_hosts():
        refused = [a for a in addresses if not is_public(a)]
        if refused or not addresses:
            raise RefusedUrl(f"Host {host} resolves to a private, loopback or link-local address; "
                             "an admin can allow it with WEBHOOK_ALLOWED_HOSTS.")
    return addresses
