#!/usr/bin/python3
"""Regenerates the atommic_*.npy and fastmri_magic*.npy goldens used by
tests/sampling/test_mask.c (numpy 1.24; no torch/numba needed).

The functions below restate, line for line in numpy, the mask algorithms of ATOMMIC
atommic/collections/common/data/subsample.py (Equispaced2D, Gaussian1D/2D, Poisson2D) and
fastMRI fastmri/data/subsample.py (MagicMaskFunc, MagicMaskFractionFunc), as specified in
shared/specs/sampling.md. ATOMMIC draws Gaussian samples from the global numpy generator and
Poisson samples inside numba; here both come from np.random seeded with GLOBAL_SEED (pure
Python, so numpy's legacy randint/random are used), the (cf, acc) choice from RandomState(seed).
"""
import numpy as np


def choose(rng, cfs, accs):
    i = rng.randint(0, len(accs))
    return cfs[i], accs[i]


def equispaced2d(shape, cfs, accs, seed):
    rng = np.random.RandomState(seed)
    cf, acc = choose(rng, cfs, accs)
    acc = int(acc / 2)
    cf = cf / 2
    rows, cols = shape
    nl = int(round(cols * cf))
    nh = int(round(rows * cf))
    mask = np.zeros([rows, cols], dtype=np.float32)
    pc = (cols - nl + 1) // 2
    pr = (rows - nh + 1) // 2
    mask[pr:pr + nh, pc:pc + nl] = True
    for i in np.arange(0, rows, acc):
        for j in np.arange(0, cols, acc):
            mask[int(i), int(j)] = True
    return mask, acc * 2


def gaussian1d(shape, cfs, accs, seed, global_seed, center_scale=0.02):
    rng = np.random.RandomState(seed)
    np.random.seed(global_seed)
    shp = (shape[1], shape[0])
    fwhm, acc = choose(rng, cfs, accs)
    scaled = int(shp[0] * center_scale)
    center = np.ones((scaled, shp[1]))
    top_scaled = (shp[0] - scaled) // 2
    bottom_scaled = shp[0] - scaled - top_scaled
    mask = np.concatenate((np.zeros((top_scaled, shp[1])), center,
                           np.zeros((bottom_scaled, shp[1]))))
    n_sample = int(shp[0] / acc)
    sigma = fwhm / np.sqrt(8 * np.log(2))
    x = np.linspace(-1.0, 1.0, shp[0])
    g = np.exp(-(x ** 2 / (2 * sigma ** 2)))
    kernel = g / g.sum()
    idxs = np.random.choice(range(shp[0]), size=n_sample, replace=False, p=kernel)
    xs = np.concatenate([np.tile(i, shp[1]) for i in idxs])
    ys = np.concatenate([range(shp[1]) for _ in idxs])
    mask[(xs, ys)] = 1.0
    mask = np.fft.ifftshift(np.fft.ifftshift(np.fft.ifftshift(mask, axes=0), axes=0), axes=(0, 1))
    return np.transpose(mask, (1, 0))[0].astype(np.float32), acc


def gaussian2d(shape, cfs, accs, seed, global_seed, center_scale=0.02):
    rng = np.random.RandomState(seed)
    np.random.seed(global_seed)
    fwhm, acc = choose(rng, cfs, accs)
    a, b = center_scale * shape[0], center_scale * shape[1]
    af, bf = shape[0] / 2, shape[1] / 2
    xx, yy = np.mgrid[:shape[0], :shape[1]]
    mask = (np.power((xx - af) / a, 2) + np.power((yy - bf) / b, 2) < 1).astype(float)
    n_sample = int(shape[0] * shape[1] / acc)
    kernels = []
    for kern_len in shape:
        sigma = fwhm / np.sqrt(8 * np.log(2))
        x = np.linspace(-1.0, 1.0, kern_len)
        kernels.append(np.exp(-(x ** 2 / (2 * sigma ** 2))))
    kernel = np.sqrt(np.outer(kernels[0], kernels[1]))
    kernel = kernel / kernel.sum()
    cart = list(np.ndindex(shape))
    idxs = np.random.choice(range(len(cart)), size=n_sample, replace=False, p=kernel.flatten())
    mask[tuple(zip(*list(map(cart.__getitem__, idxs))))] = 1.0
    return mask.astype(np.float32), acc


def poisson_pattern(nx, ny, max_attempts, radius_x, radius_y, calib):
    mask = np.zeros((ny, nx))
    mask[int(ny / 2 - calib[-2] / 2):int(ny / 2 + calib[-2] / 2),
         int(nx / 2 - calib[-1] / 2):int(nx / 2 + calib[-1] / 2)] = 1
    pxs = np.empty(nx * ny, np.int32)
    pys = np.empty(nx * ny, np.int32)
    pxs[0] = np.random.randint(0, nx)
    pys[0] = np.random.randint(0, ny)
    num_actives = 1
    while num_actives > 0:
        i = np.random.randint(0, num_actives)
        px = pxs[i]
        py = pys[i]
        rx = radius_x[py, px]
        ry = radius_y[py, px]
        done = False
        k = 0
        while not done and k < max_attempts:
            v = (np.random.random() * 3 + 1) ** 0.5
            t = 2 * np.pi * np.random.random()
            qx = px + v * rx * np.cos(t)
            qy = py + v * ry * np.sin(t)
            if 0 <= qx < nx and 0 <= qy < ny:
                startx = max(int(qx - rx), 0)
                endx = min(int(qx + rx + 1), nx)
                starty = max(int(qy - ry), 0)
                endy = min(int(qy + ry + 1), ny)
                done = True
                for x in range(startx, endx):
                    for y in range(starty, endy):
                        if mask[y, x] == 1 and (((qx - x) / radius_x[y, x]) ** 2 +
                                                ((qy - y) / (radius_y[y, x])) ** 2 < 1):
                            done = False
                            break
            k += 1
        if done:
            pxs[num_actives] = qx
            pys[num_actives] = qy
            mask[int(qy), int(qx)] = 1
            num_actives += 1
        else:
            pxs[i] = pxs[num_actives - 1]
            pys[i] = pys[num_actives - 1]
            num_actives -= 1
    return mask


def poisson2d(shape, cfs, accs, seed, global_seed, center_scale=0.02, calib=(0.0, 0.0),
              crop_corner=True, max_attempts=30, tol=0.3):
    rng = np.random.RandomState(seed)
    np.random.seed(global_seed)
    _, acc = choose(rng, cfs, accs)
    ny, nx = shape
    y, x = np.mgrid[:ny, :nx]
    x = np.maximum(abs(x - nx / 2) - calib[-1] / 2, 0)
    x /= x.max()
    y = np.maximum(abs(y - ny / 2) - calib[-2] / 2, 0)
    y /= y.max()
    r = np.hypot(x, y)
    slope_max, slope_min = 40.0, 0.0
    d = max(nx, ny)
    while slope_min < slope_max:
        slope = (slope_max + slope_min) / 2
        radius_x = np.clip((1 + r * slope) * nx / d, 1, None)
        radius_y = np.clip((1 + r * slope) * ny / d, 1, None)
        mask = poisson_pattern(nx, ny, max_attempts, radius_x, radius_y, calib)
        if crop_corner:
            mask *= r < 1
        actual = mask.size / np.sum(mask)
        if abs(actual - acc) < tol:
            break
        if actual < acc:
            slope_min = slope
        else:
            slope_max = slope
    cx, cy = int((shape[0] - 1) / 2), int((shape[1] - 1) / 2)
    X, Y = np.indices(shape)
    radius = int(shape[0] * center_scale)
    circle = ((X - cx) ** 2 + (Y - cy) ** 2) < radius ** 2
    assert abs(actual - acc) < tol
    return np.logical_or(mask, circle).astype(np.float32), actual


def center_mask(n, nlow):
    mask = np.zeros(n, dtype=np.float32)
    pad = (n - nlow + 1) // 2
    mask[pad:pad + nlow] = 1
    return mask


def magic_accel(rng, n, acc, offset):
    if offset is None:
        offset = rng.randint(0, high=acc)
    if offset % 2 == 0:
        offset_pos, offset_neg = offset + 1, offset + 2
    else:
        offset_pos, offset_neg = offset - 1 + 3, offset - 1 + 0
    poslen = (n + 1) // 2
    neglen = n - (n + 1) // 2
    mp = np.zeros(poslen, dtype=np.float32)
    mn = np.zeros(neglen, dtype=np.float32)
    mp[offset_pos::acc] = 1
    mn[offset_neg::acc] = 1
    mn = np.flip(mn)
    return np.fft.fftshift(np.concatenate((mp, mn)))


def magic(n, cfs, accs, seed, offset=None):
    rng = np.random.RandomState(seed)
    cf, acc = choose(rng, cfs, accs)
    nlow = round(n * cf)
    return np.maximum(center_mask(n, nlow), magic_accel(rng, n, acc, offset)), nlow


def magic_fraction(n, cfs, accs, seed, offset=None):
    rng = np.random.RandomState(seed)
    cf, acc = choose(rng, cfs, accs)
    nlow = round(n * cf)
    target = round(n / acc)
    nlow = max(min(nlow, target), 1)
    rest = target - nlow
    adj = round(n / rest) if rest > 0 else 0
    return np.maximum(center_mask(n, nlow), magic_accel(rng, n, adj, offset)), nlow


if __name__ == "__main__":
    def save(name, m):
        np.save(name, m.astype(np.uint8))
        print(name, m.shape, int(m.sum()))

    m, a = equispaced2d((37, 30), [0.08, 0.16], [4, 6], 5)
    save("atommic_equispaced2d_37x30_s5.npy", m); print("  acc", a)
    m, a = gaussian1d((64, 100), [0.7], [4], 1, 123)
    save("atommic_gaussian1d_100_s1_g123.npy", m)
    m, a = gaussian1d((64, 101), [0.7, 0.5], [4, 8], 2, 7)
    save("atommic_gaussian1d_101_s2_g7.npy", m); print("  acc", a)
    m, a = gaussian2d((40, 36), [0.7], [6], 3, 11)
    save("atommic_gaussian2d_40x36_s3_g11.npy", m)
    m, a = poisson2d((40, 32), [0.08], [4], 4, 99)
    save("atommic_poisson2d_40x32_s4_g99.npy", m); print("  actual", repr(a))
    m, nlow = magic(368, [0.08], [4], 42)
    save("fastmri_magic_368_s42.npy", m); print("  nlow", nlow)
    m, nlow = magic_fraction(321, [0.08], [4], 9)
    save("fastmri_magic_fraction_321_s9.npy", m); print("  nlow", nlow)
