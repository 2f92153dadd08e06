"""Write data/fashion-mnist-test-2k/: the first 200 test images of each Fashion-MNIST class (2,000 in all, in test
set order) as gzipped IDX files, so shipped models can be evaluated with no download.

Run: /usr/bin/python3 tools/make_fmnist_subset.py   (needs Debian's dataset-fashion-mnist; deterministic output)
"""
import gzip
import os
import struct

SRC = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(os.path.dirname(__file__), "..", "data", "fashion-mnist-test-2k")
PER_CLASS = 200


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def write_idx(path, dims, payload):
    header = bytes([0, 0, 8, len(dims)]) + struct.pack(">" + "I" * len(dims), *dims)
    # mtime=0 and no file name in the header: the same bytes on every run
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(header + payload)


def main():
    (n, h, w), images = read_idx(os.path.join(SRC, "t10k-images-idx3-ubyte.gz"))
    (_,), labels = read_idx(os.path.join(SRC, "t10k-labels-idx1-ubyte.gz"))
    counts = [0] * 10
    keep = []
    for i in range(n):
        c = labels[i]
        if counts[c] < PER_CLASS:
            counts[c] += 1
            keep.append(i)
    os.makedirs(OUT, exist_ok=True)
    size = h * w
    write_idx(os.path.join(OUT, "t10k-images-idx3-ubyte.gz"), (len(keep), h, w),
              b"".join(images[i * size:(i + 1) * size] for i in keep))
    write_idx(os.path.join(OUT, "t10k-labels-idx1-ubyte.gz"), (len(keep),), bytes(labels[i] for i in keep))
    print(f"{len(keep)} images, {counts} per class -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
