"""The webhook target guard judges an address by what it reaches, whatever its spelling: at
registration, on a change, in every DNS answer and again at delivery time. Control characters
in a URL are a 422."""
import socket

import pytest

from avycenna import outbound
from avycenna.db import database
from avycenna.webhooks import delivery, events
from avycenna.webhooks.models import WebhookDelivery, WebhookEndpoint
from avycenna.webhooks.secrets import new_secret
from tests.agent_helpers import db_read
from tests.webhook_receiver import Receiver

HOOKS = "/api/v1/webhook-endpoints"
PUBLIC_URL = "https://93.184.215.14/hooks"  # a literal public address: no DNS, no traffic

# IPv6 spellings of loopback, private and metadata IPv4 addresses, and deprecated or reserved ranges.
DISGUISED = [
    "::127.0.0.1",                 # IPv4-compatible (deprecated) loopback
    "::7f00:1",                    # the same, in hex
    "::10.0.0.1",                  # IPv4-compatible private
    "::169.254.169.254",           # IPv4-compatible cloud metadata
    "::ffff:169.254.169.254",      # IPv4-mapped metadata
    "64:ff9b::127.0.0.1",          # NAT64 well-known prefix, loopback
    "64:ff9b::a00:1",              # NAT64, 10.0.0.1
    "64:ff9b::c0a8:1",             # NAT64, 192.168.0.1
    "64:ff9b:1::a00:1",            # local-use NAT64 (RFC 8215)
    "2002:7f00:1::1",              # 6to4 of 127.0.0.1
    "2002:a00:1::",                # 6to4 of 10.0.0.1
    "2002:a9fe:a9fe::1",           # 6to4 of 169.254.169.254
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1
    "fec0::1",                     # site-local (deprecated)
    "fec0:0:0:ffff::1",
    "3ffe::1",                     # 6bone (returned)
    "5f00::1",                     # outside global unicast 2000::/3
    "2001:db8::1",                 # documentation
    "::",
    "fe80::1",
    "ff02::1",
]


@pytest.fixture
def member(make_user, token_for):
    return token_for(make_user())


@pytest.mark.parametrize("address", DISGUISED)
def test_every_spelling_of_an_inner_address_is_refused_at_registration(client, member, address):
    r = client.post(HOOKS, json={"url": f"http://[{address}]:8080/hook"}, headers=member)
    assert r.status_code == 422, (address, r.get_json())
    assert r.get_json()["detail"][0]["loc"] == ["body", "url"]
    assert client.get(HOOKS, headers=member).get_json()["data"] == []


@pytest.mark.parametrize("address", DISGUISED)
def test_the_guard_refuses_every_spelling(address):
    assert not outbound.is_public(address)


@pytest.mark.parametrize("address", [
    "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:93.184.215.14",
    "64:ff9b::5db8:d70e", "2002:5db8:d70e::1",
])
def test_public_addresses_in_any_spelling_still_pass(address):
    assert outbound.is_public(address)


def test_patching_to_a_disguised_loopback_is_refused(client, member):
    created = client.post(HOOKS, json={"url": PUBLIC_URL}, headers=member).get_json()
    r = client.patch(f"{HOOKS}/{created['id']}", json={"url": "http://[::127.0.0.1]:9/"}, headers=member)
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "url"]
    assert client.get(f"{HOOKS}/{created['id']}", headers=member).get_json()["url"] == PUBLIC_URL


@pytest.mark.parametrize("url", [
    "https://93.184.215.14/ho\x00ok", "https://93.184.215.14/hook\r\nX-Injected: 1",
    "https://93.184.215.14/hook\n", "https://93.184.215.14/ho\tok", "\x00https://93.184.215.14/hook",
    "https://93.184.215.14/hook\x7f", "https://93.184.215.14/hook\x85", "https://93.184.215.14/\u202ekooh",
])
def test_a_url_with_control_characters_is_a_422_and_stores_nothing(client, member, url):
    r = client.post(HOOKS, json={"url": url}, headers=member)
    assert r.status_code == 422, r.get_json()
    detail = r.get_json()["detail"]
    assert detail[0]["loc"] == ["body", "url"] and isinstance(detail[0]["msg"], str) and detail[0]["type"]
    assert client.get(HOOKS, headers=member).get_json()["data"] == []
    created = client.post(HOOKS, json={"url": PUBLIC_URL}, headers=member).get_json()
    r = client.patch(f"{HOOKS}/{created['id']}", json={"url": url}, headers=member)
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "url"]


@pytest.fixture
def dns(monkeypatch):
    """Name resolution answering `answers[name]` (a list of addresses) for the names it holds."""
    answers = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                     (a, port, 0, 0) if ":" in a else (a, port)) for a in answers[host]]
        return real(host, port, *args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize("answer", ["::127.0.0.1", "64:ff9b::7f00:1", "2002:a9fe:a9fe::", "fec0::1"])
def test_a_name_resolving_to_a_disguised_inner_address_is_refused(client, member, dns, answer):
    dns["hooks.integrator.test"] = ["93.184.215.14", answer]  # one bad answer among good ones
    r = client.post(HOOKS, json={"url": "https://hooks.integrator.test/h"}, headers=member)
    assert r.status_code == 422 and r.get_json()["detail"][0]["loc"] == ["body", "url"]


@pytest.fixture
def receiver(app):
    r = Receiver().start()
    yield r
    r.stop()


@pytest.mark.parametrize("host", ["[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "[fec0::1]",
                                  "hooks.integrator.test"])
def test_a_stored_disguised_target_is_refused_at_delivery_time(app, make_user, receiver, dns, host):
    """A row stored before the guard knew these spellings (or whose name now resolves to one)
    is refused when it is sent: nothing is posted and the log says why."""
    dns["hooks.integrator.test"] = ["::127.0.0.1"]
    port = receiver.server.server_address[1]
    user = make_user()
    with app.app_context(), database.obj.connection_context():
        endpoint = WebhookEndpoint.create(user=user, url=f"http://{host}:{port}/hook", secret=new_secret())
        [delivery_id] = events.queue([endpoint], events.TEST_EVENT, {"endpoint_id": endpoint.id})
        delivery.deliver(delivery_id)
    assert receiver.requests == []
    row = db_read(app, lambda: WebhookDelivery.get_by_id(delivery_id))
    assert row.last_error.startswith("refused:") and row.status == "pending"

