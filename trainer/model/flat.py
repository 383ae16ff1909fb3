"""One flat buffer holding several arrays back to back, each seen through a view of its own shape.

Element-wise math over all of them is then one numpy call over the buffer instead of one call per
array: on small batches the fixed cost of each numpy call is most of a training step.
"""

import math

import numpy as np


def flat_buffer(shapes, dtype):
    """A zeroed 1-D array and a dict of views into it, one shaped like each entry of `shapes`, in order."""
    flat = np.zeros(sum(math.prod(shape) for shape in shapes.values()), dtype=dtype)
    return flat, views_of(flat, shapes)


def views_of(flat, shapes):
    """A dict of views into the 1-D array flat, one shaped like each entry of `shapes`, back to back."""
    views, start = {}, 0
    for k, shape in shapes.items():
        n = math.prod(shape)
        views[k] = flat[start : start + n].reshape(shape)
        start += n
    return views


def flat_copy(arrays, dtype=None):
    """(flat, views) as flat_buffer, holding a copy of each array of the dict `arrays`."""
    arrays = {k: np.asarray(a) for k, a in arrays.items()}
    dtype = dtype or np.result_type(*arrays.values())
    flat, views = flat_buffer({k: a.shape for k, a in arrays.items()}, dtype)
    for k, a in arrays.items():
        views[k][...] = a
    return flat, views
