#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod base64;
mod error;
mod input;
mod payload;

pub use error::{ReportError, Result};
pub use input::{MetricsTable, ReportInput};

/// The page: markup, with the places where the style, the script and the data go.
const TEMPLATE: &str = include_str!("page/report.html");
/// The page's style sheet.
const STYLE: &str = include_str!("page/report.css");
/// The page's script: drawing, the networks' forward pass and saliency, the pad.
const SCRIPT: &str = include_str!("page/report.js");

/// The report of `input` as one self-contained HTML page: the style, the script and the data
/// are inline, and the page requests nothing from the network.
///
/// The page computes the network (and the classifier) in JavaScript from the weights and the
/// input scaling written into it, so a hovered point or a drawing is embedded and explained by
/// the same function as `ParametricTsne::embed`; the directional maps between neighbouring
/// clusters are computed here, by integrated gradients at each source class's centre.
///
/// # Errors
/// [`ReportError::NotFinetuned`] for a model without a map, [`ReportError::Unsupported`] for a
/// network the page cannot compute, [`ReportError::AlreadyScaled`] for scaled rows,
/// [`ReportError::Mismatch`] for training rows or refined positions that do not fit, and the
/// model's and saliency's errors (rows of the wrong width, non-finite values).
pub fn render(input: &ReportInput<'_>) -> Result<String> {
    let data = payload::payload(input)?.to_string();
    // Inside a <script> element only `</` can end it early; `<\/` is the same JSON string.
    let data = data.replace("</", "<\\/");
    let mut page = String::with_capacity(TEMPLATE.len() + STYLE.len() + SCRIPT.len() + data.len());
    let title = escape_html(&input.title);
    for (i, part) in TEMPLATE.split("@@").enumerate() {
        // Odd parts are the names between `@@` markers.
        if i % 2 == 0 {
            page.push_str(part);
            continue;
        }
        match part {
            "TITLE" => page.push_str(&title),
            "STYLE" => page.push_str(STYLE),
            "SCRIPT" => page.push_str(SCRIPT),
            "DATA" => page.push_str(&data),
            other => unreachable!("the template has no marker {other}"),
        }
    }
    Ok(page)
}

/// Text made safe for HTML element content.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_template_has_each_marker_once_and_the_script_none() {
        let markers: Vec<&str> = super::TEMPLATE.split("@@").skip(1).step_by(2).collect();
        assert_eq!(markers, ["TITLE", "STYLE", "TITLE", "DATA", "SCRIPT"]);
        assert!(!super::SCRIPT.contains("@@") && !super::STYLE.contains("@@"));
        // Inline code must not close its own element.
        assert!(!super::SCRIPT.contains("</script") && !super::STYLE.contains("</style"));
    }

    #[test]
    fn titles_are_escaped() {
        assert_eq!(super::escape_html("a <b> & c"), "a &lt;b&gt; &amp; c");
    }
}
