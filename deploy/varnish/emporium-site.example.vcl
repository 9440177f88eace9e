# The site's part of the edge configuration, included by emporium.vcl (save it as emporium-site.vcl on
# Varnish's vcl_path). `emporium edge` writes its own from the settings; this is the shape to copy.

backend origin {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 1s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
    .probe = {
        .url = "/health/live";
        .interval = 1s;
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
        .initial = 2;
    }
}

# Where purges may come from: the hosts the Emporium worker runs on.
acl purgers {
    "127.0.0.1";
    "::1";
}

# The purge token the worker sends (EMPORIUM_CDN_PURGE_TOKEN), as `Authorization: Bearer <token>`.
sub emporium_purge_authorized {
    if (req.http.Authorization != "Bearer change-me") {
        return (synth(401, "purge token missing or wrong"));
    }
}
