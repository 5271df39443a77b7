#!/usr/bin/env python3
"""A toy iExec app for the runner conformance tests: its first argument picks a behaviour."""

import json
import os
import sys
import time

out = os.environ["IEXEC_OUT"]
mode = sys.argv[1] if len(sys.argv) > 1 else "ok"


def computed(data):
    with open(os.path.join(out, "computed.json"), "w") as f:
        json.dump(data, f)


if mode == "ok":
    names = [
        os.environ[f"IEXEC_INPUT_FILE_NAME_{i}"]
        for i in range(1, int(os.environ["IEXEC_INPUT_FILES_NUMBER"]) + 1)
    ]
    report = {
        "args": sys.argv[1:],
        "inputs": names,
        "sizes": [os.path.getsize(os.path.join(os.environ["IEXEC_IN"], n)) for n in names],
        "env": {
            k: v
            for k, v in os.environ.items()
            if k.startswith("IEXEC_")
            and k not in ("IEXEC_IN", "IEXEC_OUT", "IEXEC_INPUT_FILES_FOLDER")
        },
    }
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(report, f, sort_keys=True)
    computed({"deterministic-output-path": os.path.join(out, "result.json")})
    print("toy: ok")
elif mode == "bigmem":  # allocates 600 MB (refused under a smaller memory limit)
    block = bytearray(600 * 1024 * 1024)
    computed({"deterministic-output-path": "/iexec_out"})
elif mode == "hang":
    print("toy: hanging", flush=True)
    time.sleep(3600)
elif mode == "bigout":
    with open(os.path.join(out, "big.bin"), "wb") as f:
        for _ in range(4096):  # up to 256 MB unless stopped first
            f.write(b"\0" * 65536)
            f.flush()
            time.sleep(0.001)
    computed({"deterministic-output-path": os.path.join(out, "big.bin")})
elif mode == "nocomputed":
    print("toy: no computed.json")
elif mode == "exit3":
    computed({"deterministic-output-path": out})
    sys.exit(3)
elif mode == "error":
    computed({"error-message": "toy failed on purpose"})
    sys.exit(1)
elif mode == "escape":
    computed({"deterministic-output-path": "/etc/passwd"})
elif mode == "badjson":
    with open(os.path.join(out, "computed.json"), "w") as f:
        f.write("{not json")
elif mode == "callback":
    computed({"callback-data": "0x" + "ab" * 32})
