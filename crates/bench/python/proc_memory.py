"""The memory of this process as Linux reports it, for the benchmark's Python readers.

`getrusage`'s `ru_maxrss` cannot serve: Linux keeps it across `exec`, so a child of a large
process reports its parent's peak. `/proc/self/status` and `/proc/self/clear_refs` can.
"""


def status_kib(field):
    """A `/proc/self/status` figure in KiB, or None where there is none."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak():
    """Resets the peak RSS to the current RSS; False where the system cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def idle():
    """The RSS now, the peak reset to it; None where either cannot be measured."""
    now = status_kib("VmRSS")
    return now if now is not None and reset_peak() else None


def peak(idle_kib):
    """The peak RSS since `idle()`, or None where that was not measured."""
    return status_kib("VmHWM") if idle_kib is not None else None
