"""The deployment files hold commands that work: every Visor command of the
systemd units and of the compose file, with their environment, passes
`--check` against a real PostgreSQL (the test's own, holding the roles and
databases the files name), and the check fails when the store or the
configuration is wrong."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tempfile
import unittest
from pathlib import Path

from postgres_harness import PostgresServer
from visor_harness import BINARY, require_binary

DEPLOY = Path(__file__).resolve().parent.parent.parent / "deploy"
INSTALLED_BINARY = "/usr/local/bin/visor"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a systemd EnvironmentFile; comments skipped."""
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def unit_commands(path: Path) -> dict[str, list[str]]:
    """ExecStart and ExecStartPre of a unit, as argument lists."""
    commands = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^(ExecStart(?:Pre)?)=(.*)$", line)
        if match:
            commands[match.group(1)] = shlex.split(match.group(2))
    return commands


def compose_services(path: Path) -> dict[str, list[str]]:
    """Each service's `command:` (written as a JSON list) in the compose file."""
    services, current, in_services = {}, None, False
    for line in path.read_text().splitlines():
        if re.match(r"^services:\s*$", line):
            in_services = True
            continue
        if in_services and re.match(r"^\S", line):
            in_services = False
        if not in_services:
            continue
        name = re.match(r"^  ([A-Za-z0-9_-]+):\s*$", line)
        if name:
            current = name.group(1)
            continue
        command = re.match(r"^    command:\s*(\[.*\])\s*$", line)
        if command and current:
            services[current] = json.loads(command.group(1))
    return services


def compose_store(path: Path) -> str:
    match = re.search(r'VISOR_STORE:\s*"([^"]+)"', path.read_text())
    if not match:
        raise AssertionError("compose.yaml names no VISOR_STORE")
    return match.group(1)


def reach_here(uri: str, port: int) -> str:
    """The URI with its host and port replaced by the test's server."""
    return re.sub(r"@[^/:]+(:\d+)?/", f"@127.0.0.1:{port}/", uri)


class DeploymentCommandsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_binary()
        cls.pg = PostgresServer(fsync=False).start()
        cls.addClassCleanup(cls.pg.cleanup)
        # The roles and databases the files name, with their passwords.
        cls.compose_uri = compose_store(DEPLOY / "compose.yaml")
        cls.unit_env = read_env_file(DEPLOY / "systemd" / "visor.env")
        for uri in (cls.compose_uri, cls.unit_env["VISOR_STORE"]):
            user, password, database = re.match(r"postgres(?:ql)?://([^:]+):([^@]+)@[^/]+/(\w+)", uri).groups()
            cls.pg.psql(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN "
                        f"CREATE ROLE {user} LOGIN PASSWORD '{password}'; END IF; END $$;", db="postgres")
            if not cls.pg.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'", db="postgres"):
                cls.pg.psql(f"CREATE DATABASE {database} OWNER {user}", db="postgres")
        cls.tmp = Path(tempfile.mkdtemp(prefix="visor-deploy-"))
        cls.keys_file = cls.tmp / "api-keys"
        cls.keys_file.write_text("deploy-test-key-0123456789abcdef ops\n")

    def check(self, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
        """Runs a deployment's command with --check, as installed there."""
        self.assertEqual(argv[0], INSTALLED_BINARY, argv)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("VISOR_")}
        environment.update(env)
        return subprocess.run([str(BINARY), *argv[1:], "--check"], capture_output=True, text=True, timeout=60,
                              env=environment, cwd=self.tmp)

    def unit_environment(self) -> dict[str, str]:
        env = dict(self.unit_env)
        env["VISOR_STORE"] = reach_here(env["VISOR_STORE"], self.pg.port)
        env["VISOR_API_KEYS_FILE"] = str(self.keys_file)
        return env

    def test_every_command_of_the_systemd_units_passes_its_check(self):
        units = sorted((DEPLOY / "systemd").glob("*.service"))
        self.assertEqual([u.name for u in units], ["visor-serve.service", "visor-worker@.service"])
        for unit in units:
            commands = unit_commands(unit)
            self.assertIn("ExecStart", commands, unit.name)
            # The unit checks what it is about to run, with the same flags.
            self.assertEqual(commands["ExecStartPre"], commands["ExecStart"] + ["--check"], unit.name)
            with self.subTest(unit=unit.name):
                proc = self.check(commands["ExecStart"], self.unit_environment())
                self.assertEqual(proc.returncode, 0, proc.stderr + proc.stdout)
                self.assertIn("configuration OK", proc.stdout)
                self.assertIn("127.0.0.1", proc.stdout)
                self.assertNotIn(re.match(r".*:(.*)@", self.unit_env["VISOR_STORE"]).group(1), proc.stdout,
                                 "the check prints the store's password")

    def test_every_visor_service_of_the_compose_file_passes_its_check(self):
        services = compose_services(DEPLOY / "compose.yaml")
        self.assertEqual(sorted(services), ["api1", "api2", "worker"])
        env = {"VISOR_STORE": reach_here(self.compose_uri, self.pg.port)}
        for name, command in services.items():
            with self.subTest(service=name):
                proc = self.check([INSTALLED_BINARY, *command], env)
                self.assertEqual(proc.returncode, 0, proc.stderr + proc.stdout)
                self.assertIn("configuration OK", proc.stdout)

    def test_the_load_balancer_sends_to_every_api_node_of_the_compose_file(self):
        upstreams = re.findall(r"server\s+([\w-]+):(\d+)", (DEPLOY / "nginx.conf").read_text())
        api_nodes = {name: command for name, command in compose_services(DEPLOY / "compose.yaml").items()
                     if command[0] == "serve"}
        self.assertEqual(sorted(name for name, _ in upstreams), sorted(api_nodes))
        for name, port in upstreams:
            command = api_nodes[name]
            self.assertEqual(command[command.index("--port") + 1], port, name)
            self.assertEqual(command[command.index("--workers") + 1], "0", f"{name} is not an API-only node")

    def test_the_check_fails_for_an_unreachable_store_or_a_bad_setting(self):
        serve = unit_commands(DEPLOY / "systemd" / "visor-serve.service")["ExecStart"]
        unreachable = dict(self.unit_environment(), VISOR_STORE="postgresql://visor:x@127.0.0.1:1/visor")
        proc = self.check(serve, unreachable)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn("cannot be used", proc.stderr)
        self.assertNotIn(":x@", proc.stderr, "the check prints the store's password")
        bad = dict(self.unit_environment(), VISOR_LEASE_TIMEOUT="soon")
        proc = self.check(serve, bad)
        self.assertEqual(proc.returncode, 2, proc.stdout)
        self.assertIn("--lease-timeout", proc.stderr)


if __name__ == "__main__":
    unittest.main()
