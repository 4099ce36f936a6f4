"""Is a document host public? Hosts are read the way git (libcurl) and libc read them.

`ipaddress` accepts only dotted quads, but libc's inet_aton and curl also take `127.1`, `0x7f.1`,
`0177.0.0.1` and `2130706433`, and a name may end in a dot (`localhost.`) or be written in
full-width letters that IDNA folds to ASCII. Each form is folded to the address or name git would
connect to before deciding; IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4, Teredo) are
judged by that address too. Pure functions: the fetcher adds DNS resolution at connect time.
"""

from __future__ import annotations

import ipaddress
import re

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

PRIVATE_NAMES = ("localhost",)
PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home", ".corp", ".intranet",
                    ".home.arpa", ".in-addr.arpa", ".ip6.arpa")
NAME_CHARS = re.compile(r"^[a-z0-9_.-]+$")
NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_BITS = (None, (32,), (8, 24), (8, 8, 16), (8, 8, 8, 8))  # inet_aton: the last part fills the rest


def _number(part: str) -> int | None:
    """One inet_aton part: 0x hex, leading-0 octal, or decimal."""
    try:
        if part.startswith("0x"):
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part, 8)
        return int(part, 10)
    except ValueError:
        return None


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address libc's inet_aton (and curl) read from `host`, or None if it is not one."""
    parts = host.lower().split(".")
    if not 1 <= len(parts) <= 4 or not all(NUMERIC_LABEL.match(p) for p in parts):
        return None
    value = 0
    for part, bits in zip(parts, IPV4_BITS[len(parts)] or (), strict=True):
        number = _number(part)
        if number is None or number >= 1 << bits:
            return None
        value = (value << bits) | number
    return ipaddress.IPv4Address(value)


def embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (::ffff:a.b.c.d, 64:ff9b::a.b.c.d, 6to4, Teredo, ::a.b.c.d)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    out = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo:
        out.extend(address.teredo)
    if address in NAT64 or int(address) >> 32 == 0:
        out.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return out


def address_problem(address: Address) -> str | None:
    """Why git must not connect to this address (loopback, private, ...), or None for a public one."""
    for candidate in (*embedded_ipv4(address), address):  # the IPv4 inside first: the clearer reason
        for word, flag in (("loopback", candidate.is_loopback), ("link-local", candidate.is_link_local),
                           ("multicast", candidate.is_multicast), ("unspecified", candidate.is_unspecified),
                           ("reserved", candidate.is_reserved), ("private", candidate.is_private),
                           ("not public", not candidate.is_global)):
            if flag:
                return f"{word} address {candidate}"
    return None


def normalise_host(host: str) -> tuple[str | Address | None, str | None]:
    """(the name or address git would connect to, None) or (None, why the host is not valid)."""
    host = host.strip("[]")
    if ":" in host:  # an IPv6 literal, perhaps with a zone (%25eth0)
        try:
            return ipaddress.IPv6Address(host.replace("%25", "%")), None
        except ValueError:
            return None, "is not a valid IPv6 address"
    try:
        name = host.encode("idna").decode("ascii").lower() if host else ""
    except UnicodeError:
        return None, "is not a valid host name"
    name = name[:-1] if name.endswith(".") else name
    if not name or not NAME_CHARS.match(name):
        return None, "is not a valid host name"
    address = parse_ipv4(name)
    if address is not None:
        return address, None
    if NUMERIC_LABEL.match(name.rsplit(".", 1)[-1]):
        return None, "looks like an IP address but is not a valid one"
    return name, None


def host_problem(host: str) -> str | None:
    """Why a URL's host is not a public one, in words, or None."""
    target, invalid = normalise_host(host)
    if invalid:
        return invalid
    if target is None:
        return "has no host"
    if not isinstance(target, str):
        problem = address_problem(target)
        return f"is a {problem}" if problem else None
    if target in PRIVATE_NAMES or target.endswith(PRIVATE_SUFFIXES) or "." not in target:
        return f"is a private host name ({target})"
    return None
