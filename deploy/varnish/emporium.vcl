# Emporium's edge: Varnish 7.x with varnish-modules (xkey) in front of the API.
#
# What it does, all of it driven by the API's own response headers:
# - caches the public catalog reads under /store (product pages, listings, categories, collections,
#   search suggestions) for as long as `s-maxage` says, and nothing the API does not mark `public`;
# - serves a copy past its time while a single background fetch refreshes it, for as long as the API's
#   `stale-while-revalidate` allows; while the API is down (its health probe failing) it keeps serving
#   cached copies for up to a day, and answers what it does not hold with a 503 problem document;
# - collapses concurrent misses of one document into one request to the API (Varnish's waiting list);
# - never caches a response that is `private`, `no-store` or sets a cookie, and drops the shopper's
#   cookies from catalog reads, which do not depend on them, so no cookie reaches a cached copy;
# - strips tracking query parameters (utm_*, gclid, fbclid, ...) and sorts the rest, so they do not
#   split the cache;
# - keys the cache by what the API `Vary`s on, with those request headers normalised first;
# - purges by surrogate key: `PURGE` with a `Surrogate-Key` header naming the keys (space-separated),
#   from an address in the `purgers` ACL and with the purge token, soft-purges every copy tagged with
#   any of them (xkey). A soft-purged copy is refetched by the next request while the API is up, and
#   still served while it is down.
#
# The site's own part -- the `origin` backend, the `purgers` ACL and the token check
# (`sub emporium_purge_authorized`) -- lives in `emporium-site.vcl`, found on vcl_path: `emporium edge`
# writes one from its settings; `emporium-site.example.vcl` beside this file shows the shape.

vcl 4.1;

import std;
import xkey;

include "emporium-site.vcl";

sub vcl_recv {
    if (req.restarts == 0) {
        # Ours to set, never the client's.
        unset req.http.X-Emporium-Refetch;
        unset req.http.X-Emporium-Edge;
    }
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "purges are accepted from the purgers ACL only"));
        }
        call emporium_purge_authorized;
        if (!req.http.Surrogate-Key) {
            return (synth(400, "name the keys to purge in a Surrogate-Key header"));
        }
        set req.http.X-Emporium-Purged = xkey.softpurge(req.http.Surrogate-Key);
        return (synth(200, "purged"));
    }
    if (req.url == "/.edge/origin") {
        # The origin's health as the edge's probe sees it (for operators and tests).
        if (std.healthy(req.backend_hint)) {
            return (synth(200, "origin healthy"));
        }
        return (synth(503, "origin sick"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.url !~ "^/store/(products|categories|collections|search/suggest)(/|\?|$)") {
        return (pass);  # carts, checkouts, accounts, drops' queues, admin: always the API's own answer
    }
    if (req.http.Authorization) {
        return (pass);
    }

    # Tracking parameters out, the rest in a stable order.
    set req.url = regsuball(req.url, "(?i)([?&])(utm_[a-z_]+|gclid|gbraid|wbraid|dclid|fbclid|msclkid|yclid|twclid|igshid|mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi|srsltid)(=[^&]*)?", "\1");
    set req.url = regsuball(req.url, "&{2,}", "&");
    set req.url = regsub(req.url, "\?&", "?");
    set req.url = regsub(req.url, "[?&]$", "");
    set req.url = std.querysort(req.url);

    # Catalog documents are the same for every shopper.
    unset req.http.Cookie;

    # The headers the API varies on, normalised so that spelling does not split the cache.
    if (req.http.X-Channel) {
        set req.http.X-Channel = std.tolower(req.http.X-Channel);
        if (req.http.X-Channel !~ "^[a-z0-9_-]{1,32}$") {
            unset req.http.X-Channel;
        }
    }
    if (req.http.Accept-Language) {
        # The first language asked for, its primary tag only (`de-AT,de;q=0.9` -> `de`).
        set req.http.Accept-Language = std.tolower(regsub(req.http.Accept-Language, "^\s*([A-Za-z]{2,3}).*$", "\1"));
        if (req.http.Accept-Language !~ "^[a-z]{2,3}$") {
            unset req.http.Accept-Language;
        }
    }

    if (req.http.X-Emporium-Refetch) {
        set req.grace = 0s;  # see vcl_hit: this copy may not be served stale
    }
    return (hash);
}

sub vcl_hit {
    if (obj.ttl <= 0s && std.healthy(req.backend_hint)) {
        # Expired and the API is up. Served stale (with one background refresh) only within the API's
        # stale-while-revalidate and only if it expired by age: a purged copy -- expired before its time --
        # is fetched again, so the first request after a purge sees the change.
        if (std.time2real(now, 0.0) < std.real(obj.http.X-Emporium-Fresh-Until, 0.0)
            || obj.ttl + std.duration(obj.http.X-Emporium-Swr + "s", 0s) <= 0s) {
            set req.http.X-Emporium-Refetch = "1";
            return (restart);
        }
    }
}

sub vcl_backend_fetch {
    # Tells the API the request comes through the edge: it then skips its own short in-process cache, which
    # could hand back a copy from before the change a purge announced.
    set bereq.http.X-Emporium-Edge = "1";
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);
    }
    if (beresp.http.Set-Cookie
        || beresp.http.Cache-Control !~ "(?i)(^|[ ,])public([ ,]|$)"
        || beresp.http.Cache-Control ~ "(?i)(private|no-store|no-cache)") {
        # Someone's own answer: never stored, and the next request for it goes straight to the API.
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }
    # Varnish has read s-maxage into the TTL and stale-while-revalidate into the grace; vcl_hit needs both
    # later, the grace itself becomes the copy's life while the API is down.
    set beresp.http.X-Emporium-Swr = beresp.grace;
    set beresp.http.X-Emporium-Fresh-Until = std.time2real(now + beresp.ttl, 0.0);
    set beresp.grace = 24h;
    set beresp.keep = 1h;  # an expired copy's ETag lets the API answer 304
    return (deliver);
}

sub vcl_backend_error {
    set beresp.http.Content-Type = "application/problem+json";
    set beresp.http.Cache-Control = "no-store";
    set beresp.http.Retry-After = "5";
    set beresp.ttl = 0s;
    set beresp.grace = 0s;
    synthetic({"{"type":"about:blank","title":"The shop is unavailable","detail":"The shop cannot be reached right now and this page is not in the edge cache. Try again in a few seconds.","status":503}"});
    return (deliver);
}

sub vcl_deliver {
    unset resp.http.xkey;
    unset resp.http.X-Emporium-Swr;
    unset resp.http.X-Emporium-Fresh-Until;
    if (obj.uncacheable) {
        set resp.http.X-Cache = "PASS";
    } elsif (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}

sub vcl_synth {
    set resp.http.Cache-Control = "no-store";
    if (req.method == "PURGE" && resp.status == 200) {
        set resp.http.Content-Type = "application/json";
        set resp.body = {"{"purged":"} + req.http.X-Emporium-Purged + "}";
        return (deliver);
    }
    set resp.http.Content-Type = "application/problem+json";
    set resp.body = {"{"type":"about:blank","title":""} + resp.reason + {"","status":"} + resp.status + "}";
    return (deliver);
}
