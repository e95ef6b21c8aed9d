#!/usr/bin/env python3
"""Write the renderer's reference cases: tests/ref/<case>/{input.bin, expected.txt[, size,
expected_commands.txt, oracle]}. Each case pins one family of sequences. `size` is COLSxROWS
(80x24 when absent); a file `oracle` marks cases where tmux must show the same text (the test
checks that too); cases without it are where the renderer deliberately keeps more than a
terminal (wiped screens) or keeps a screen apart (alternate screen).

Run: python3 indexer/tests/ref/make_cases.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
E = "\x1b"
P = E + "[?2004h"   # bash 5.1+: reading a line
A = "\r\n" + E + "[?2004l\r"  # bash 5.1+: line accepted

CASES = {
    "backspace-edit": dict(
        input="$ echo helo\b\b\blo wrld\r\nhelo wrld\r\n",
        expected=["$ echo hlo wrld", "helo wrld"]),
    "cr-progress-bar": dict(
        input="fetch  10%\rfetch  55%\rfetch 100%\r\ndone\r\n",
        expected=["fetch 100%", "done"]),
    "soft-wrap-joined": dict(
        size="20x5",
        input="0123456789" * 5 + "\r\nnext\r\n",
        expected=["0123456789" * 5, "next"]),
    "readline-xn-wrap": dict(
        # readline at the right margin prints ' ' '\r' to force the wrap, then redraws
        size="20x5",
        input=P + "$ echo abcdefghijklm \rnopq" + A + "abcdefghijklmnopq\r\n",
        expected=["$ echo abcdefghijklmnopq", "abcdefghijklmnopq"],
        commands=["echo abcdefghijklmnopq"]),
    "insert-delete-chars": dict(
        input="abcdef\r" + E + "[2C" + E + "[2@XY\r\n" + "abcdef\r" + E + "[1C" + E + "[3P\r\n",
        expected=["abXYcdef", "aef"]),
    "erase-in-line": dict(
        input="keep-this-gone" + E + "[5D" + E + "[K\r\n" + "gone-keep" + E + "[5D" + E + "[1K\r\n"
              + "all" + E + "[2K\r\n" + "abcdef\r" + E + "[2C" + E + "[2X\r\n",
        expected=["keep-this", "     keep", "", "ab  ef"]),
    "erase-below-mid-screen": dict(
        input="one\r\ntwo\r\nthree\r\n" + E + "[2A" + E + "[J" + "TWO\r\n",
        expected=["one", "TWO"]),
    "clear-keeps-wiped-screen": dict(
        # a terminal loses what `clear` wiped (ESC[3J drops the scrollback too); an audit keeps it
        input="$ cat secret\r\nhunter2\r\n$ clear\r\n" + E + "[H" + E + "[2J" + E + "[3J" + "$ ls\r\nfile\r\n",
        expected=["$ cat secret", "hunter2", "$ clear", "$ ls", "file"]),
    "ctrl-l-keeps-screen": dict(
        input=P + "$ echo one" + A + "one\r\n" + P + "$ " + E + "[H" + E + "[2J" + "$ echo two" + A + "two\r\n",
        expected=["$ echo one", "one", "$", "$ echo two", "two"],
        commands=["echo one", "echo two"]),
    "alternate-screen-apart": dict(
        input="$ vim notes\r\n" + E + "[?1049h" + E + "[H" + E + "[2J" + "editing\r\n~\r\n" + E + "[?1049l" + "$ echo back\r\n",
        expected=["$ vim notes", "$ echo back"]),
    "wide-cjk": dict(
        size="10x5",
        input="本番環境のデータベース\r\nok\r\n",
        expected=["本番環境のデータベース", "ok"]),
    "combining-marks": dict(
        input="cafe\u0301 nai\u0308ve\r\n",
        expected=["cafe\u0301 nai\u0308ve"]),
    "tabs": dict(
        input="a\tb\tc\r\nlonger-word\tx\r\n",
        expected=["a       b       c", "longer-word     x"]),
    "scroll-region": dict(
        size="20x5",
        input=E + "[1;4r" + E + "[4;1H" + "l1\r\nl2\r\nl3\r\nl4\r\nl5\r\n" + E + "[r" + E + "[5;1Hstatus",
        # the three blank rows above the cursor scroll out of the region first
        expected=["", "", "", "l1", "l2", "l3", "l4", "l5", "", "status"]),
    "cursor-addressing": dict(
        input=E + "[2J" + E + "[1;1Htop-left" + E + "[3;5Hrow3col5" + E + "[2;1H" + E + "[4Cmid\r\n",
        expected=["top-left", "    mid", "    row3col5"]),
    "dec-line-drawing": dict(
        input=E + "(0lqqk" + E + "(B ok\r\n",
        expected=["┌──┐ ok"]),
    "osc133-marks": dict(
        input=E + "]133;A\x07user$ " + E + "]133;B\x07ls -l\r\n" + E + "]133;C\x07total 0\r\n" + E + "]133;D;0\x07",
        expected=["user$ ls -l", "total 0"],
        commands=["ls -l"]),
    "title-and-colours-invisible": dict(
        input=E + "]0;user@host: ~\x07" + E + "[01;32muser@host" + E + "[00m:" + E + "[01;34m~" + E + "[00m$ ls\r\n",
        expected=["user@host:~$ ls"]),
    "ctrl-c-cancelled": dict(
        input=P + "$ rm -rf /^C" + E + "[?2004l\r" + P + E + "[?2004l\r\r\n" + P + "$ echo ok" + A + "ok\r\n",
        expected=["$ rm -rf /^C", "$ echo ok", "ok"],
        commands=["echo ok"]),
    "hostile-bounds": dict(
        # huge parameters and repeat counts, an endless OSC string, NULs, invalid UTF-8
        input=E + "[65535;65535H" + E + "[65535A" + E + "[65535D" + "x" + E + "[65535b\r\n"
              + E + "]0;" + "A" * 100000 + "\x07" + "\x00" * 1000 + "ok\xff\r\n",
                # REP is bounded to one screen width: 1 + 80 characters, one wrap
        expected=["x" * 81, "ok\ufffd"]),
}


def main():
    for name, case in CASES.items():
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        data = case["input"].encode("utf-8", "surrogateescape")
        if name == "hostile-bounds":
            data = data.replace("ok\xff".encode("utf-8"), b"ok\xff")
        with open(os.path.join(d, "input.bin"), "wb") as f:
            f.write(data)
        with open(os.path.join(d, "expected.txt"), "w") as f:
            f.write("".join(l + "\n" for l in case["expected"]))
        if "size" in case:
            with open(os.path.join(d, "size"), "w") as f:
                f.write(case["size"] + "\n")
        if "commands" in case:
            with open(os.path.join(d, "expected_commands.txt"), "w") as f:
                f.write("".join(c + "\n" for c in case["commands"]))
        keeps_more = name in ("clear-keeps-wiped-screen", "ctrl-l-keeps-screen", "alternate-screen-apart",
                              "readline-xn-wrap", "ctrl-c-cancelled", "hostile-bounds", "osc133-marks",
                              # tmux's capture shows line-drawing cells as the ASCII sent
                              "dec-line-drawing")
        oracle = os.path.join(d, "oracle")
        if not keeps_more:
            open(oracle, "w").close()
        elif os.path.exists(oracle):
            os.remove(oracle)


if __name__ == "__main__":
    main()
