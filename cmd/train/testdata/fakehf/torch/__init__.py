# A stand-in for the few torch calls cmd/train/check_export.py makes, so that its plumbing
# (file reading, indexing of logits, EOS targets, the summary) is tested where torch is not
# installed. Tensors are nested lists; only what the script uses is here.
__version__ = "fake"
float32 = "float32"


class Tensor:
    def __init__(self, data):
        self.data = data

    @property
    def shape(self):
        dims, d = [], self.data
        while isinstance(d, list):
            dims.append(len(d))
            d = d[0] if d else None
        return tuple(dims)

    def __getitem__(self, key):
        if isinstance(key, tuple):  # out[0, n:]
            row = self.data[key[0]]
            return Tensor(row[key[1]])
        v = self.data[key]
        return Tensor(v) if isinstance(v, list) else Scalar(v)

    def argmax(self):
        return max(range(len(self.data)), key=lambda i: self.data[i])

    def tolist(self):
        return self.data


class Scalar(float):
    pass


def tensor(data):
    return Tensor(data)


def ones_like(t):
    return Tensor([[1] * len(r) for r in t.data])


class no_grad:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False
