"""Generates the house-prices data (synthetic, deterministic): `make_data.py OUT ROWS SEED`.

Price grows with living area, rooms, lot size and quality and falls with age; neighbourhoods
add their own level. Used once to create each data version that DVC tracks.
"""
import csv
import random
import sys

NEIGHBOURHOODS = {"riverside": 40_000, "old-town": 25_000, "hills": 60_000, "docks": 0}


def main(out, rows, seed):
    rng = random.Random(seed)
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["area_m2", "rooms", "lot_m2", "age_years", "quality", "neighbourhood", "price"])
        for _ in range(rows):
            area = round(rng.uniform(40, 250), 1)
            rooms = max(1, int(area / 25 + rng.gauss(0, 1)))
            lot = round(area * rng.uniform(1.2, 4.0), 1)
            age = rng.randint(0, 120)
            quality = rng.randint(1, 10)
            hood = rng.choice(sorted(NEIGHBOURHOODS))
            price = (1_800 * area + 6_000 * rooms + 40 * lot - 700 * age + 9_000 * quality
                     + NEIGHBOURHOODS[hood] + rng.gauss(0, 15_000))
            writer.writerow([area, rooms, lot, age, quality, hood, round(max(price, 30_000), -2)])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
