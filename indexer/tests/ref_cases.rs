//! Reference cases as data (tests/ref/<case>/), one or more per family of sequences.

use ssm_audit_core::transcript::SizeChoice;

use crate::common::*;

pub fn size_of(case: &std::path::Path) -> (u16, u16) {
    std::fs::read_to_string(case.join("size")).map_or((80, 24), |s| parse_size(&s))
}

#[test]
fn reference_cases_render_as_expected() {
    let mut failures = Vec::new();
    for case in cases("ref") {
        let (cols, rows) = size_of(&case);
        let (rendered, sink) = render_file(
            &case.join("input.bin"),
            SizeChoice {
                cols: Some(cols),
                rows: Some(rows),
            },
        );
        let expected = read_lines(&case.join("expected.txt"));
        if sink.lines != expected {
            failures.push(format!(
                "{}:\n  got      {:?}\n  expected {:?}",
                case.display(),
                sink.lines,
                expected
            ));
        }
        let cmds = case.join("expected_commands.txt");
        if cmds.exists() {
            let got: Vec<String> = rendered
                .summary
                .commands
                .iter()
                .map(|c| c.text.clone())
                .collect();
            let expected = read_lines(&cmds);
            if got != expected {
                failures.push(format!(
                    "{} commands:\n  got      {got:?}\n  expected {expected:?}",
                    case.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn alternate_screen_is_kept_apart_and_marked() {
    let case = data("ref/alternate-screen-apart");
    let (rendered, sink) = render_file(&case.join("input.bin"), SizeChoice::default());
    assert_eq!(rendered.summary.alternate_screens, 1);
    let screen = &sink.alternate_screens[0];
    assert_eq!(screen.index, 1);
    assert_eq!(screen.after_line, 1, "vim was started on line 1");
    assert_eq!(screen.lines, ["editing", "~"]);
}

#[test]
fn cancelled_line_is_listed_apart() {
    let case = data("ref/ctrl-c-cancelled");
    let (rendered, _) = render_file(&case.join("input.bin"), SizeChoice::default());
    assert_eq!(texts(&rendered.summary.cancelled), ["rm -rf /"]);
}
