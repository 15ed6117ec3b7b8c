"""Served workers' links: what is sent comes back exactly, and arrays travel raw."""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import threading

import numpy as np
import pytest

from kernels.core.servers import Link, ServedProcess

ECHO = (
    "import sys; from kernels.core.servers import connect_back, serve_requests; "
    "serve_requests(connect_back(sys.argv[1], sys.argv[2]), lambda request: request)"
)


def _answers_equal(got, sent) -> bool:
    if isinstance(sent, dict):
        return got.keys() == sent.keys() and all(_answers_equal(got[k], sent[k]) for k in sent)
    if isinstance(sent, np.ndarray):
        nan = sent.dtype.kind == "f"
        return (type(got) is np.ndarray and got.dtype == sent.dtype and got.shape == sent.shape
                and np.array_equal(got, sent, equal_nan=nan))  # fmt: skip
    return type(got) is type(sent) and got == sent


ODD_ARRAYS = {
    "image": np.arange(600 * 400, dtype=np.int32).reshape(400, 600),
    "fortran": np.asfortranarray(np.linspace(0.0, 1.0, 12).reshape(3, 4)),
    "every other column": np.arange(20.0).reshape(4, 5)[:, ::2],
    "scalar": np.array(3.5),
    "empty": np.zeros((0, 7), dtype=np.int64),
    "nan": np.array([np.nan, -0.0, np.inf]),
    "objects": np.array(["a", None, 3], dtype=object),
}


def test_a_served_worker_echoes_every_kind_of_array_exactly():
    def failure(code: int, stderr: str) -> RuntimeError:
        return RuntimeError(f"echo worker exited with {code}: {stderr}")

    served = ServedProcess(lambda address, key: [sys.executable, "-c", ECHO, address, key],
                           failure, "echo worker", start_timeout=60)  # fmt: skip
    try:
        for name, array in ODD_ARRAYS.items():
            assert _answers_equal(served.call(array, timeout=60), array), name
        nested = {"result": ODD_ARRAYS["image"], "compute_s": 0.25, "rank": 0}
        assert _answers_equal(served.call(nested, timeout=60), nested)
        answer = served.call(ODD_ARRAYS["image"], timeout=60)
        answer[0, 0] = -1  # the answer is the caller's own array, writable
    finally:
        served.close()


def test_an_array_s_data_goes_beside_the_pickle_not_inside_it():
    mine, theirs = multiprocessing.Pipe()
    sender, receiver = Link(mine), Link(theirs)
    messages: list[int] = []
    send_bytes = mine.send_bytes
    mine.send_bytes = lambda data: (messages.append(len(data)), send_bytes(data))[1]
    image = np.arange(1_000_000, dtype=np.float64)
    writer = threading.Thread(target=sender.send, args=({"result": image},))
    writer.start()  # the data is larger than the socket's buffer: read it meanwhile
    got = receiver.recv()
    writer.join()
    assert np.array_equal(got["result"], image)
    assert messages and max(messages) < 1000  # 8 MB of data, a pickle of a few hundred bytes
    sender.close()
    receiver.close()


def test_a_message_cut_off_midway_is_an_error_not_a_hang():
    mine, theirs = multiprocessing.Pipe()
    receiver = Link(theirs)
    data = pickle.dumps(np.zeros(1000), protocol=5, buffer_callback=lambda b: None)
    mine.send_bytes(pickle.dumps((data, [8000])))  # the header promises 8000 bytes
    mine.send_bytes(b"\x00" * 100)  # a few arrive, then the sender is gone
    mine.close()
    with pytest.raises(EOFError, match="in the middle of a message"):
        receiver.recv()
    receiver.close()
