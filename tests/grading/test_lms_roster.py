"""The roster: read from the CSVs instructors have (plain, Canvas's export, Moodle's worksheet),
every bad one refused with one line, and submissions matched to exactly one student or none."""

from __future__ import annotations

import pytest

from checks.grading.roster import RosterError, Student, find_student, parse_roster, read_roster

PLAIN = "id,name,email,section\n1001,Jane Doe,jdoe@uni.edu,A\n1002,Bob Roe,broe@uni.edu,B\n"


def test_a_plain_roster_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(b"\xef\xbb\xbf" + PLAIN.encode())
    roster = read_roster(path)
    assert roster.students == (
        Student("1001", "Jane Doe", email="jdoe@uni.edu", section="A"),
        Student("1002", "Bob Roe", email="broe@uni.edu", section="B"),
    )


def test_canvas_gradebook_export_reads_as_a_roster_without_its_points_possible_row():
    text = (
        "Student,ID,SIS User ID,SIS Login ID,Section,Chapter 1 (77)\n"
        "    Points Possible,,,,,50\n"
        '"Doe, Jane",1001,S-1,jdoe,Section A,\n'
    )
    assert parse_roster(text).students == (
        Student("1001", "Doe, Jane", login="jdoe", section="Section A", sis_id="S-1"),
    )


def test_moodle_worksheet_and_participants_exports():
    worksheet = 'Identifier,Full name,Email address,Status\n"Participant 5001",Jane Doe,j@u.edu,x\n'
    assert parse_roster(worksheet).students == (Student("5001", "Jane Doe", email="j@u.edu"),)
    participants = "ID;First name;Last name;ID number\n5002;Bob;Roe;S-2\n"  # a ; locale
    assert parse_roster(participants).students == (Student("5002", "Bob Roe", sis_id="S-2"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("name,email\nJane,j@u\n", "no id column"),
        ("id,email\n1,j@u\n", "no name column"),
        ("id,student id,name\n1,2,Jane\n", "both give the student's id"),
        ("id,name\n1,Jane\n1,Jim\n", "line 3: id '1' is already on line 2"),
        ("id,name\n,Jane\n", "line 2: the student id is empty"),
        ("id,name\n1,Jane,extra\n", "line 2: more fields than the header"),
        ("id,name\n", "no student"),
        ('id,name\n1,"Jane\n', "not valid CSV"),
    ],
)
def test_bad_rosters_are_one_line(text, message):
    with pytest.raises(RosterError, match=message) as caught:
        parse_roster(text, "r.csv")
    assert "\n" not in str(caught.value)


def test_bad_roster_files_are_one_line(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,name\n1,Zoë\n".encode("latin-1"))
    with pytest.raises(RosterError, match="not UTF-8"):
        read_roster(latin)
    with pytest.raises(RosterError, match="not a roster file"):
        read_roster(tmp_path / "missing.csv")
    with pytest.raises(RosterError, match="not a roster file"):
        read_roster(tmp_path)  # a folder


def test_an_lms_user_id_matches_the_id_only():
    roster = parse_roster("id,name,login\n1001,Jane Doe,1002\n1002,Bob Roe,broe\n")
    assert find_student(roster, user_id="1002")[0].name == "Bob Roe"
    assert find_student(roster, user_id="1099") == (None, "no roster entry with id 1099")


def test_a_plain_name_matches_id_login_or_email_once():
    roster = parse_roster(
        "id,name,login,email\n"
        "1001,Jane Doe,jdoe,jane.doe@uni.edu\n"
        "1002,Bob Roe,broe@uni.edu,\n"
        "1003,Twin One,twin,\n"
        "1004,Twin Two,,twin@uni.edu\n"
    )
    assert find_student(roster, name="JDOE")[0].id == "1001"
    assert find_student(roster, name="jane.doe")[0].id == "1001"
    assert find_student(roster, name="broe")[0].id == "1002"
    assert find_student(roster, name="1002")[0].id == "1002"
    student, reason = find_student(roster, name="twin")
    assert student is None and "matches several roster entries (1003, 1004)" in reason
    assert find_student(roster, name="nobody")[0] is None
    assert find_student(roster, name="")[0] is None


@pytest.mark.parametrize("policy", ["Muted", "Manual Posting"])
def test_canvas_rows_of_posting_policies_are_not_students(policy):
    text = (
        "Student,ID,SIS User ID,SIS Login ID,Section,Homework 1 (1234)\n"
        f",,,,,{policy}\n"
        "    Points Possible,,,,,10\n"
        "Doe Jane,1001,S-1,jdoe,A,\n"
    )
    roster = parse_roster(text, "canvas.csv")
    assert [(s.id, s.name) for s in roster.students] == [("1001", "Doe Jane")]
    # A row with a name or an email but no id is still a mistake, said on one line.
    with pytest.raises(RosterError, match="line 6: the student id is empty"):
        parse_roster(text + ",,,,,\nRoe Bob,,,,B,\n", "canvas.csv")
