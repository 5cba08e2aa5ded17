"""What the image clean-up deletes, decided from the files' names and ages and the hashes found referenced."""

from __future__ import annotations

from desktop_assistant.core.image_cleanup import MIN_AGE, ImageFile, hashes_in, image_hash, to_delete

A = "ab" + "0" * 62
B = "cd" + "1" * 62
NOW = 1_750_000_000.0
OLD = NOW - MIN_AGE - 1


def test_hashes_are_found_in_any_text_in_lower_case() -> None:
    text = f'[{{"type": "image_url", "image_url": {{"url": "attachment:{A}.png"}}}}, "{B.upper()}"]'
    assert hashes_in(text) == {A, B}
    assert hashes_in(f"{A[:63]} and {A[:63]}x") == set()  # 63 digits are not a hash


def test_a_hash_inside_a_longer_run_of_hex_digits_is_found_among_the_candidates() -> None:
    run = f"ff{A}0{B}ee"
    assert hashes_in(run) == set()
    assert hashes_in(run, {A, B, "ef" * 32}) == {A, B}


def test_only_the_store_s_own_file_names_name_an_image() -> None:
    assert image_hash(f"ab/{A}.png") == A and image_hash(f"ab/{A}.jpg") == A and image_hash(f"ab/{A}.bin") == A
    for name in (f"cd/{A}.png", f"{A}.png", f"ab/{A}.gif", f"ab/{A.upper()}.png", f"ab/{A}", "ab/holiday.png",
                 f"ab/.{A}.png-x1y2", f"ab/{A}.png.bak"):
        assert image_hash(name) is None, name


def test_an_old_file_nothing_refers_to_goes_and_every_other_stays() -> None:
    files = [ImageFile(f"ab/{A}.png", OLD), ImageFile(f"cd/{B}.jpg", OLD)]
    assert to_delete(files, {B}, NOW) == [files[0]]
    assert to_delete(files, {A, B}, NOW) == []


def test_a_file_written_or_attached_again_within_a_day_stays() -> None:
    files = [ImageFile(f"ab/{A}.png", NOW - MIN_AGE + 60), ImageFile(f"cd/{B}.png", NOW + 3600)]  # (a clock ahead)
    assert to_delete(files, set(), NOW) == []
    assert to_delete(files[:1], set(), NOW + 60) == files[:1]


def test_an_unfinished_write_goes_when_old_and_files_of_other_names_stay() -> None:
    unfinished = ImageFile(f"ab/.{A}.png-x1y2z3", OLD)
    others = [ImageFile("ab/holiday.png", OLD), ImageFile(f"ab/.{A}.png", OLD), ImageFile(f"cd/.{A}.png-x1", OLD),
              ImageFile("README.txt", OLD)]
    assert to_delete([unfinished, *others], set(), NOW) == [unfinished]
    assert to_delete([ImageFile(unfinished.name, NOW - 60)], set(), NOW) == []
