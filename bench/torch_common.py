"""Command-line pieces shared by the PyTorch side-by-side drivers (torch_cirim.py,
torch_e2evn.py, torch_lpn.py, torch_recurrentvarnet.py): the subcommands that time a case file
and compare two outputs, and the size options of `make`. Imported from the drivers' folder."""


def add_timing_parser(sub, name, reps, threads):
    """Subcommand `name FILE [--threads N] [--reps R] [--out PATH]` (time a case file)."""
    r = sub.add_parser(name)
    r.add_argument("file")
    r.add_argument("--threads", type=int, default=threads)
    r.add_argument("--reps", type=int, default=reps)
    r.add_argument("--out")
    return r


def add_compare_parser(sub):
    """Subcommand `compare A B` (two outputs of the same case)."""
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    return c


def add_make_parser(sub, seed, coils, h, w):
    """Subcommand `make OUT [--seed S] [--coils C] [--h H] [--w W]` (write a case file)."""
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("--seed", type=int, default=seed)
    m.add_argument("--coils", type=int, default=coils)
    m.add_argument("--h", type=int, default=h)
    m.add_argument("--w", type=int, default=w)
    return m
