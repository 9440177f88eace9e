"""``emporium edge``: Varnish in front of the API, with the shipped configuration (``deploy/varnish/``).

``varnishd`` (Debian's ``varnish`` with ``varnish-modules`` for xkey) runs as our child in the foreground,
its working directory under ``.emporium/varnish-<port>/``, where the site's part of the configuration
(``emporium-site.vcl``: the API as the backend, with a health probe; who may purge; the purge token) is
written from the settings before it starts. The worker purges it when ``EMPORIUM_CDN_PURGE_URL`` names it
(``emporium run --edge`` sets that up).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from entrypoints.cli.services import ServiceError
from entrypoints.settings import Settings

VCL_DIR = Path(__file__).resolve().parents[3] / "deploy" / "varnish"
INSTALL = "apt-get install varnish varnish-modules"
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class EdgeConfig:
    port: int
    backend_host: str
    backend_port: int
    workdir: Path
    purge_token: str = ""
    purgers: tuple[str, ...] = ("127.0.0.1", "::1")
    storage: str = "malloc,64m"
    probe_interval: float = 1.0
    management_port: int = 0  # the management interface (varnishadm); 0: the port after ``port``

    @property
    def admin_port(self) -> int:
        return self.management_port or self.port + 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _vcl_string(value: str) -> str:
    if any(c in value for c in '"\n\r{}') or not value.isprintable():
        raise ServiceError(f"{value!r} cannot be written into the edge configuration")
    return f'"{value}"'


def site_vcl(config: EdgeConfig) -> str:
    """The site's part of the configuration (see deploy/varnish/emporium-site.example.vcl)."""
    for address in config.purgers:
        ipaddress.ip_network(address, strict=False)  # a typo is refused here, not by the VCL compiler
    purgers = "\n".join(f"    {_vcl_string(a.split('/')[0])}{'/' + a.split('/')[1] if '/' in a else ''};"
                        for a in config.purgers)
    token_check = (
        f"    if (req.http.Authorization != {_vcl_string('Bearer ' + config.purge_token)}) {{\n"
        '        return (synth(401, "purge token missing or wrong"));\n    }\n'
        if config.purge_token else "    # no purge token set: the purgers ACL alone decides\n"
    )
    interval = f"{config.probe_interval:g}s"
    return f"""# Written by `emporium edge` at start; edit the settings, not this file.
backend origin {{
    .host = {_vcl_string(config.backend_host)};
    .port = "{int(config.backend_port)}";
    .connect_timeout = 1s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
    .probe = {{
        .url = "/health/live";
        .interval = {interval};
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
        .initial = 2;
    }}
}}

acl purgers {{
{purgers}
}}

sub emporium_purge_authorized {{
{token_check}}}
"""


def varnishd() -> str:
    found = shutil.which("varnishd") or next(
        (p for p in ("/usr/sbin/varnishd", "/usr/local/sbin/varnishd") if Path(p).exists()), None)
    if found is None:
        raise ServiceError(f"varnishd is not installed: `{INSTALL}` (Debian 12: Varnish 7.1, xkey 0.20)")
    return found


def command(config: EdgeConfig) -> list[str]:
    return [
        varnishd(), "-F", "-a", f"127.0.0.1:{config.port}", "-T", f"127.0.0.1:{config.admin_port}",
        "-f", str(VCL_DIR / "emporium.vcl"), "-p", f"vcl_path={config.workdir}:{VCL_DIR}:/usr/share/varnish/vcl",
        "-n", str(config.workdir / "instance"), "-s", config.storage,
        # No jail: as root varnishd would otherwise switch to its own users, which cannot read our files.
        "-j", "none",
    ]


def prepare(config: EdgeConfig) -> list[str]:
    """Write the site's configuration into the working directory; the command that starts Varnish on it."""
    if not (VCL_DIR / "emporium.vcl").exists():
        raise ServiceError(f"the edge configuration is missing: {VCL_DIR / 'emporium.vcl'}")
    args = command(config)
    config.workdir.mkdir(parents=True, exist_ok=True)
    site = config.workdir / "emporium-site.vcl"
    site.write_text(site_vcl(config))
    site.chmod(0o600)  # it holds the purge token
    return args


def start(config: EdgeConfig, *, log: Path | None = None) -> subprocess.Popen[bytes]:
    """varnishd in the foreground as our child, in a process group of its own."""
    args = prepare(config)
    out = log.open("ab") if log is not None else None
    try:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT if out else None, start_new_session=True)
    finally:
        if out is not None:
            out.close()


def answering(config: EdgeConfig) -> bool:
    """True once Varnish answers on its port (whatever it thinks of the API)."""
    try:
        with urllib.request.urlopen(f"{config.url}/.edge/origin", timeout=2):  # noqa: S310 - our loopback URL
            return True
    except urllib.error.HTTPError:
        return True  # 503 "origin sick" is Varnish answering
    except OSError:
        return False


def wait_ready(proc: subprocess.Popen[bytes], config: EdgeConfig, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"varnishd exited with {proc.returncode} (its output above says why)")
        if answering(config):
            return
        time.sleep(0.1)
    raise ServiceError(f"varnishd did not answer on {config.url} within {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM varnishd (it stops its worker child), SIGKILL its group if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def serve_edge(project_dir: Path, settings: Settings, *, port: int = 0, backend: str = "", admin_port: int = 0) -> int:
    """``emporium edge``: Varnish in the foreground until SIGTERM or Ctrl-C; its exit status."""
    host, _, backend_port = (backend or f"{settings.host}:{settings.port}").rpartition(":")
    config = EdgeConfig(
        port=port or settings.edge_port, backend_host=host or "127.0.0.1", backend_port=int(backend_port),
        workdir=project_dir / ".emporium" / f"varnish-{port or settings.edge_port}",
        purge_token=settings.cdn_purge_token,
        purgers=tuple(a.strip() for a in settings.edge_purgers.split(",") if a.strip()),
        management_port=admin_port,
    )
    proc = start(config)

    def forward(*_: object) -> None:  # varnishd stops its worker process and exits; we return when it has
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        wait_ready(proc, config)
    except BaseException:
        stop(proc)
        raise
    print(f"edge (Varnish) on {config.url} in front of http://{config.backend_host}:{config.backend_port}; "
          f"purges from {', '.join(config.purgers)}"
          + ("" if config.purge_token else " (no purge token: set EMPORIUM_CDN_PURGE_TOKEN)"), flush=True)
    return proc.wait()
