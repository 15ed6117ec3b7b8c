"""A job array's tasks each compute one band of Mandelbrot rows; a last job assembles them.

``python bands.py band K TASKS`` writes ``band-K.npy``; ``python bands.py assemble TASKS``
stacks them and compares the image with the reference.
"""

import os
import sys

import numpy as np

import kernels
from kernels.problems import mandelbrot

WIDTH, HEIGHT, MAX_ITER = 600, 400, 200

if sys.argv[1] == "band":
    task, tasks = int(sys.argv[2]), int(sys.argv[3])
    rows = np.array_split(np.arange(HEIGHT), tasks)[task]
    np.save(f"band-{task}.npy", mandelbrot.rows_numpy(rows, WIDTH, HEIGHT, MAX_ITER))
    print(f"task {task} of {tasks} (job {os.environ.get('SLURM_JOB_ID')}): "
          f"rows {rows[0]}-{rows[-1]} on core(s) {sorted(os.sched_getaffinity(0))}")  # fmt: skip
else:
    tasks = int(sys.argv[2])
    image = np.vstack([np.load(f"band-{task}.npy") for task in range(tasks)])
    want = kernels.reference("mandelbrot", width=WIDTH, height=HEIGHT, max_iter=MAX_ITER)
    print(f"assembled {tasks} bands: image {image.shape}, "
          f"equal to the reference: {np.array_equal(image, want)}")  # fmt: skip
