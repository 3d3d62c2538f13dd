//! The admin API serves its OpenAPI document as the committed `lib/openapi/admin-api.json`
//! (pretty-printed, for review) minified and deflated: 25 KB in the admin-api binary
//! instead of 372 KB, inflated on the document's first request.

use std::io::Write;
use std::path::Path;

use flate2::write::DeflateEncoder;
use flate2::Compression;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lib/openapi/admin-api.json");
    println!("cargo::rerun-if-changed={}", committed.display());
    let pretty = std::fs::read_to_string(&committed)?;
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(minify(&pretty).as_bytes())?;
    let out = Path::new(&std::env::var("OUT_DIR")?).join("admin-api.json.deflate");
    std::fs::write(out, encoder.finish()?)?;
    Ok(())
}

/// `json` without the whitespace between its tokens; strings are kept as they are.
fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !c.is_ascii_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}
