//! Pure renderers: display model in, text out (Argo's `cmd/get` and `cmd/list` printing).
//!
//! Nothing here does I/O or reads the clock; `now` is a parameter so output is reproducible.

pub mod list;
#[cfg(test)]
mod snapshots;
pub mod tabwriter;
pub mod tree;

use crate::info::{icons, tags};

/// ANSI SGR codes Argo uses.
mod ansi {
    pub const NO_FORMAT: u8 = 0;
    pub const FG_RED: u8 = 31;
    pub const FG_GREEN: u8 = 32;
    pub const FG_YELLOW: u8 = 33;
    pub const FG_HI_BLUE: u8 = 94;
}

/// Colouring of well-known words and icons (Argo's `colorMapping`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub const PLAIN: Style = Style { color: false };
    pub const COLOR: Style = Style { color: true };

    /// `s` in the colour that belongs to `s` itself.
    pub fn colorize(&self, s: &str) -> String {
        self.colorize_as(s, s)
    }

    /// `s` in the colour that belongs to `key` (a status or tag). With colours on, even an
    /// unmapped word is wrapped (in the reset code), as Argo does, so that column widths stay
    /// comparable.
    pub fn colorize_as(&self, s: &str, key: &str) -> String {
        if !self.color {
            return s.to_string();
        }
        format!("\x1b[{}m{s}\x1b[{}m", color_of(key), ansi::NO_FORMAT)
    }
}

fn color_of(key: &str) -> u8 {
    match key {
        icons::WAITING | icons::UNKNOWN => ansi::FG_YELLOW,
        icons::PROGRESSING => ansi::FG_HI_BLUE,
        icons::WARNING | icons::BAD => ansi::FG_RED,
        icons::OK => ansi::FG_GREEN,
        tags::CANARY => ansi::FG_YELLOW,
        tags::STABLE | tags::ACTIVE => ansi::FG_GREEN,
        tags::PREVIEW | tags::PING | tags::PONG => ansi::FG_HI_BLUE,
        "Pending" | "Running" => ansi::FG_HI_BLUE,
        _ => ansi::NO_FORMAT,
    }
}

/// Moves the cursor home and clears the screen, before each redraw of a watch.
pub const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J\x1b[0;0H";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_follow_argo_mapping() {
        assert_eq!(Style::COLOR.colorize("✔"), "\x1b[32m✔\x1b[0m");
        assert_eq!(Style::COLOR.colorize("॥"), "\x1b[0m॥\x1b[0m");
        assert_eq!(
            Style::COLOR.colorize_as("name", "canary"),
            "\x1b[33mname\x1b[0m"
        );
        assert_eq!(Style::PLAIN.colorize("✔"), "✔");
    }
}
