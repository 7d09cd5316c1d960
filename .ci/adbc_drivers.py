#!/usr/bin/env python3
"""Installs the ADBC drivers the tests and examples use into target/adbc/ (idempotent).

Also a Python venv, target/adbc/venv, with adbc_driver_manager, pyarrow and polars, and the
peers the benchmarks compare with (the Go Flight SQL driver adbc-driver-flightsql,
flightsql-dbapi): the tests load
this workspace's Flight SQL driver (libadbc_driver_dbapi_flightsql.so) from Python through it.

The SQLite, PostgreSQL and (Go) Flight SQL drivers come from their PyPI wheels (each holds one
self-contained shared library): the libraries go to target/adbc/lib/, and an ADBC driver
manifest for each to target/adbc/drivers/, so that `ADBC_DRIVER_PATH=target/adbc/drivers` makes
`adbc:sqlite`, `adbc:postgresql` and `adbc:flightsql` URLs work, and tests can name the
manifests by path.
"""

import pathlib
import platform
import subprocess
import sys
import tempfile
import zipfile

VERSION = "1.13.0"
DRIVERS = {
    "sqlite": "adbc-driver-sqlite",
    "postgresql": "adbc-driver-postgresql",
    # The reference Flight SQL driver (Go), a driver with partitions of its own.
    "flightsql": "adbc-driver-flightsql",
}
ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "adbc"


def arch():
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )


def install(name, package):
    lib_dir = OUT / "lib"
    manifest = OUT / "drivers" / f"{name}.toml"
    library = lib_dir / f"libadbc_driver_{name}.so"
    if library.is_file() and manifest.is_file() and VERSION in manifest.read_text():
        return
    lib_dir.mkdir(parents=True, exist_ok=True)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", "--dest", tmp, f"{package}=={VERSION}"],
            check=True,
        )
        wheels = list(pathlib.Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            sys.exit(f"expected one wheel for {package}, found {wheels}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            members = [m for m in wheel.namelist() if m.endswith(f"libadbc_driver_{name}.so")]
            if len(members) != 1:
                sys.exit(f"{wheels[0].name} holds no single libadbc_driver_{name}.so")
            library.write_bytes(wheel.read(members[0]))
    manifest.write_text(
        f"""manifest_version = 1

name = "ADBC {name} driver"
publisher = "arrow-adbc (from the PyPI wheel {package}=={VERSION})"
version = "{VERSION}"

[ADBC]
version = "1.1.0"

[Driver]
[Driver.shared]
linux_{arch()} = "{library}"
"""
    )
    print(f"installed {name}: {library}")


PYTHON_PACKAGES = [
    f"adbc-driver-manager=={VERSION}",
    f"adbc-driver-flightsql=={VERSION}",
    "pyarrow==26.0.1",
    "polars==2.1.0",
    # Peers of the wide-table benchmark: flightsql-dbapi (a DB-API driver on pyarrow's Flight
    # client) and the pandas it reads results through.
    "flightsql-dbapi==0.2.2",
    "pandas==3.1.1",
    # InfluxData's own client, which queries the bundled server through InfluxDB's JSON ticket.
    "influxdb3-python==0.21.0",
]


def venv():
    env = OUT / "venv"
    python = env / "bin" / "python"
    stamp = env / "installed.txt"
    wanted = "\n".join(PYTHON_PACKAGES)
    if stamp.is_file() and stamp.read_text() == wanted:
        return
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--only-binary=:all:", *PYTHON_PACKAGES],
        check=True,
    )
    stamp.write_text(wanted)
    print(f"installed the venv: {env}")


def main():
    for name, package in DRIVERS.items():
        install(name, package)
    venv()


if __name__ == "__main__":
    main()
