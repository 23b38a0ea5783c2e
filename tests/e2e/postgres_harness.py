"""A throwaway PostgreSQL server for the end-to-end tests and benchmarks.

    pg = PostgresServer().start()        # initdb + pg_ctl start on a free port
    pg.url()                             # postgresql://postgres@127.0.0.1:PORT/visor
    pg.psql("SELECT count(*) FROM jobs") # [("3",)]
    pg.restart(); pg.kill(); pg.start_again()
    pg.cleanup()

The server lives in a temporary directory (prefix visor-pg-) holding the data
directory, its Unix socket and its log; it listens on 127.0.0.1 only, trusts
every local connection (user `postgres`, no password) and is removed by
cleanup(). Started as root, every PostgreSQL program runs as the
unprivileged `postgres` user (PostgreSQL refuses to run as root), which
owns the directory.

fsync stays on by default, so figures measured against it are honest;
PostgresServer(fsync=False) trades durability for speed where a test does not
need it.

Only the standard library is used: queries go through the `psql` binary.

Environment:
  VISOR_PG_BINDIR   directory of initdb, pg_ctl, psql (default: `pg_config --bindir`,
                    else the newest /usr/lib/postgresql/*/bin)
  VISOR_E2E_KEEP    set to keep the directory (data and log) after cleanup()
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from visor_harness import child_pids, free_port

SETUP_HINT = "run scripts/setup (it installs Debian's postgresql package)"
FIELD_SEP = "\x1f"   # psql -F: unit separator, so no text value can split a row
RECORD_SEP = "\x1e"  # psql -R: record separator, so values may hold newlines


def find_bindir() -> Path:
    """The directory of the PostgreSQL server programs; RuntimeError when
    they are not installed (a silent skip would hide a broken setup)."""
    candidates: list[Path] = []
    if os.environ.get("VISOR_PG_BINDIR"):
        candidates.append(Path(os.environ["VISOR_PG_BINDIR"]))
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    except (OSError, subprocess.SubprocessError):
        pass

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return bindir
    looked = ", ".join(str(c) for c in candidates) or "nowhere (no pg_config, no /usr/lib/postgresql)"
    raise RuntimeError(f"PostgreSQL server programs (initdb, pg_ctl, postgres, psql) not found; looked in "
                       f"{looked}. The PostgreSQL tests need them: {SETUP_HINT}, or set VISOR_PG_BINDIR.")


def _pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


# Servers not cleaned up yet: stopped at interpreter exit (a test run ended
# by Ctrl-C skips tearDownClass), so no postgres outlives its tests.
_started: set["PostgresServer"] = set()


@atexit.register
def _cleanup_all() -> None:
    for server in list(_started):
        server.cleanup()


class PostgresError(RuntimeError):
    """A psql command failed (the server down, an SQL error, ...)."""


class PostgresServer:
    def __init__(self, fsync: bool = True, max_connections: int = 200, port: int | None = None,
                 settings: dict[str, str] | None = None, name: str = "visor"):
        self.bindir = find_bindir()
        self.fsync = fsync
        self.max_connections = max_connections
        self.settings = dict(settings or {})
        self.name = name
        self.port = port or free_port()
        self.tmp: Path | None = None
        self.data_dir: Path | None = None
        self.socket_dir: Path | None = None
        self.log_path: Path | None = None
        self.as_postgres = os.geteuid() == 0
        self._user: pwd.struct_passwd | None = None
        if self.as_postgres:
            try:
                self._user = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(f"running as root, but there is no `postgres` user to run PostgreSQL as: "
                                   f"{SETUP_HINT}") from None
            if not shutil.which("runuser"):
                raise RuntimeError("running as root, but `runuser` (util-linux) is missing")

    # -- running PostgreSQL programs --------------------------------------
    def _env(self) -> dict:
        # The caller's PG* variables (PGHOST, PGDATABASE, ...) must not redirect the tools.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update({"LC_ALL": "C", "LANG": "C", "PGCONNECT_TIMEOUT": "5"})
        return env

    def _cmd(self, tool: str, *args: str) -> list[str]:
        cmd = [str(self.bindir / tool), *args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return cmd

    def run_tool(self, tool: str, *args: str, timeout: float = 60, check: bool = True,
                 env_extra: dict | None = None) -> subprocess.CompletedProcess:
        """Runs one of PostgreSQL's programs (psql, pgbench, pg_test_fsync,
        ...) as the server runs (as `postgres` when root); PostgresError
        when `check` and it fails."""
        # cwd: a directory postgres may enter (it may not enter root's cwd).
        env = {**self._env(), **(env_extra or {})}
        proc = subprocess.run(self._cmd(tool, *args), capture_output=True, text=True, timeout=timeout,
                              env=env, stdin=subprocess.DEVNULL, cwd=self.tmp or "/")
        if check and proc.returncode != 0:
            raise PostgresError(f"{tool} {' '.join(args)} exited with {proc.returncode}:\n"
                                f"{proc.stdout}{proc.stderr}")
        return proc

    def _server_options(self) -> str:
        settings = {
            "listen_addresses": "127.0.0.1",
            "max_connections": str(self.max_connections),
            "fsync": "on" if self.fsync else "off",
            "synchronous_commit": "on" if self.fsync else "off",
            "full_page_writes": "on" if self.fsync else "off",
            "log_line_prefix": "%m [%p] ",
            **self.settings,
        }
        # pg_ctl hands the options to a shell: quote each.
        options = [f"-p {self.port}", f"-k {shlex.quote(str(self.socket_dir))}"]
        options += [f"-c {shlex.quote(f'{key}={value}')}" for key, value in settings.items()]
        return " ".join(options)

    # -- lifecycle ---------------------------------------------------------
    def start(self, timeout: float = 60) -> "PostgresServer":
        """initdb in a new temporary directory, start, create database `visor`."""
        if self.tmp is not None:
            raise RuntimeError("start() was already called; use start_again()")
        parent = Path(tempfile.gettempdir())
        self.tmp = Path(tempfile.mkdtemp(prefix="visor-pg-", dir=parent))
        _started.add(self)
        try:
            self.data_dir = self.tmp / "data"
            self.socket_dir = self.tmp / "socket"
            self.log_path = self.tmp / "postgres.log"
            self.socket_dir.mkdir()
            self.log_path.touch()
            if self.as_postgres:
                for path in (self.tmp, self.socket_dir, self.log_path):
                    os.chown(path, self._user.pw_uid, self._user.pw_gid)
                if not os.access(parent, os.X_OK) or not (parent.stat().st_mode & 0o001):
                    raise RuntimeError(f"{parent} is not traversable by the postgres user; set TMPDIR")
            self.run_tool("initdb", "-D", str(self.data_dir), "-A", "trust", "-U", "postgres", "--no-sync",
                      "-E", "UTF8", "--locale=C", "--no-instructions", timeout=120)
            for attempt in range(3):
                try:
                    self.start_again(timeout)
                    break
                except PostgresError:
                    # Another process took the free port before PostgreSQL bound it.
                    if "could not bind" not in self.log() or attempt == 2:
                        raise
                    self.port = free_port()
            self.create_database("visor")
        except BaseException:
            self.cleanup()
            raise
        return self

    def start_again(self, timeout: float = 60) -> "PostgresServer":
        """Starts the server on the existing data directory and port (after
        stop() or kill()); returns once it accepts connections."""
        self._remove_stale_pid_file()
        self.run_tool("pg_ctl", "start", "-w", "-t", str(int(timeout)), "-D", str(self.data_dir),
                  "-l", str(self.log_path), "-o", self._server_options(), timeout=timeout + 30)
        return self

    def stop(self, mode: str = "fast", timeout: float = 60) -> None:
        """pg_ctl stop -m smart|fast|immediate; nothing when not running."""
        if self.data_dir is None or not self.running():
            return
        self.run_tool("pg_ctl", "stop", "-w", "-t", str(int(timeout)), "-m", mode, "-D", str(self.data_dir),
                  timeout=timeout + 30)

    def restart(self, mode: str = "fast", timeout: float = 60) -> None:
        """Stop (`mode`) and start again on the same port and data."""
        self.stop(mode, timeout)
        self.start_again(timeout)

    def postmaster_pid(self) -> int | None:
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError, TypeError, AttributeError):
            return None
        return pid if _pid_alive(pid) else None

    def running(self) -> bool:
        return self.postmaster_pid() is not None

    def kill(self, timeout: float = 30) -> None:
        """A crash: SIGKILL to the postmaster and every backend at once (as
        when the machine or container dies); returns when all are gone.
        start_again() then runs PostgreSQL's crash recovery."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGSTOP)  # it must not start new children meanwhile
        pids = [pid] + child_pids(pid)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while any(_pid_alive(p) for p in pids):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL processes {[p for p in pids if _pid_alive(p)]} outlived SIGKILL")
            time.sleep(0.02)

    def _remove_stale_pid_file(self) -> None:
        # After kill() the postmaster may linger as a zombie where nothing
        # reaps orphans (a container whose init does not): PostgreSQL would
        # take its pid, still in its lock files, for a live server.
        if self.postmaster_pid() is not None:
            return
        for lock in [self.data_dir / "postmaster.pid", *self.socket_dir.glob(".s.PGSQL.*.lock")]:
            try:
                lock.unlink()
            except FileNotFoundError:
                pass

    def cleanup(self) -> None:
        """Stops the server (fast, then immediate, then SIGKILL) and removes
        the directory unless VISOR_E2E_KEEP is set."""
        _started.discard(self)
        if self.tmp is None:
            return
        try:
            self.stop("fast", timeout=30)
        except (PostgresError, subprocess.SubprocessError, OSError):
            try:
                self.stop("immediate", timeout=15)
            except (PostgresError, subprocess.SubprocessError, OSError):
                pass
        if self.running():
            self.kill()
        if not os.environ.get("VISOR_E2E_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        return self.start() if self.tmp is None else self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    # -- clients -------------------------------------------------------------
    def url(self, db: str = "visor") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def psql(self, sql: str, db: str = "visor", timeout: float = 60) -> list[tuple[str, ...]]:
        """Runs `sql` (one or more statements) and returns the rows of the
        last one as tuples of strings (NULL as ""); PostgresError on failure."""
        proc = self.run_tool("psql", "-X", "-q", "-At", "-F", FIELD_SEP, "-R", RECORD_SEP, "-v", "ON_ERROR_STOP=1",
                         "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db, "-c", sql,
                         timeout=timeout)
        out = proc.stdout
        if out.endswith("\n"):
            out = out[:-1]
        if not out:
            return []
        return [tuple(record.split(FIELD_SEP)) for record in out.split(RECORD_SEP)]

    def create_database(self, name: str) -> None:
        quoted = '"' + name.replace('"', '""') + '"'
        self.psql(f"CREATE DATABASE {quoted}", db="postgres")

    def drop_database(self, name: str) -> None:
        quoted = '"' + name.replace('"', '""') + '"'
        self.psql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)", db="postgres")

    def log(self, max_lines: int = 200) -> str:
        """The server's log (its last `max_lines` lines)."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except (OSError, AttributeError):
            return ""
        if max_lines and len(lines) > max_lines:
            lines = [f"... ({len(lines) - max_lines} lines left out)"] + lines[-max_lines:]
        return "\n".join(lines)
