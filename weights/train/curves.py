#!/usr/bin/python3
"""Training curves of the shipped networks as one CSV (weights/train/curves.csv), from the
checkpoints of train.py (RUN/<arch>.pt; a continued run carries its predecessors in
"previous").

    /usr/bin/python3 weights/train/curves.py CKPT.pt ... > weights/train/curves.csv

Columns: arch, stage (1 = first run, 2 = continuation), step, seconds (wall clock within the
stage), loss (that step's batch), loss_ema (exponential moving average, 0.98).
"""
import sys

import torch


def main():
    print("arch,stage,step,seconds,loss,loss_ema")
    for path in sys.argv[1:]:
        ck = torch.load(path, map_location="cpu")
        stages = ck.get("previous", []) + [ck]
        for i, st in enumerate(stages):
            for step, sec, loss, ema in st["curve"]:
                print("%s,%d,%d,%.2f,%.6g,%.6g" % (ck["arch"], i + 1, step, sec, loss, ema))


if __name__ == "__main__":
    main()
