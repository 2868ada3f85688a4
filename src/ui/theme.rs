//! Colours and emphasis. Each layer has one colour, the same in every pane (timeline, columns, hex
//! legend, strip), so a student can follow "the yellow bytes are TCP" across the screen.
//!
//! Three themes ([`ThemeName`]): dark, light (for a projector or a light terminal) and high
//! contrast. Each is a [`Palette`], a table of data: the screen's background and one colour per
//! role (text, layers, borders, warnings…). Every colour is an xterm 256-colour index from 16 to
//! 255, whose RGB value is fixed by the xterm palette, never one of the 16 basic colours (0–15,
//! `Color::Gray`, `Color::White`…) that each terminal and projector paints as it likes; the whole
//! screen is painted with the theme's background, so every pair of colours on it is known, and a
//! unit test holds each text colour to WCAG 2.1's 4.5:1 contrast against it.
//!
//! With `NO_COLOR` set (<https://no-color.org>), no colour is emitted at all: layers are told apart
//! by emphasis instead (bold, underline, italic, dim), and selections stay visible as reversed video.

use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::BorderType;

/// A layer as the UI shows it: one column each, from the application down to the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UiLayer {
    /// What the program wrote or read (the chat line).
    Application,
    /// TLS records (RFC 8446 §5): header, encrypted body, authentication tag.
    Tls,
    /// The TCP segment header (RFC 9293 §3.1).
    Tcp,
    /// The IPv4 (RFC 791) or IPv6 (RFC 8200) header; ARP (RFC 826) sits here too.
    Ip,
    /// The link-layer header (Ethernet, Linux cooked, loopback).
    Link,
}

impl UiLayer {
    /// All layers in column order, top of the stack first.
    pub const ALL: [UiLayer; 5] = [
        UiLayer::Application,
        UiLayer::Tls,
        UiLayer::Tcp,
        UiLayer::Ip,
        UiLayer::Link,
    ];

    /// The column index (0 = Application).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The column title.
    pub fn title(self) -> &'static str {
        match self {
            UiLayer::Application => "Application",
            UiLayer::Tls => "TLS",
            UiLayer::Tcp => "TCP",
            UiLayer::Ip => "IP",
            UiLayer::Link => "Link",
        }
    }
}

/// The themes `--theme` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ThemeName {
    /// Light text on a dark background.
    #[default]
    Dark,
    /// Dark text on white: for projectors and light terminals.
    Light,
    /// White and saturated colours on black, every pair at 7:1 or more (WCAG AAA).
    HighContrast,
}

impl ThemeName {
    /// Every theme.
    pub const ALL: [ThemeName; 3] = [ThemeName::Dark, ThemeName::Light, ThemeName::HighContrast];

    /// The theme's colours.
    pub fn palette(self) -> &'static Palette {
        match self {
            ThemeName::Dark => &DARK,
            ThemeName::Light => &LIGHT,
            ThemeName::HighContrast => &HIGH_CONTRAST,
        }
    }

    /// The theme that suits the terminal, if it says what its background is: `COLORFGBG`
    /// ("foreground;background" as palette numbers, set by rxvt and Konsole among others) with
    /// a light background (7, or 9 to 15) asks for the light theme; otherwise dark.
    pub fn detect() -> ThemeName {
        std::env::var("COLORFGBG")
            .ok()
            .and_then(|v| ThemeName::from_colorfgbg(&v))
            .unwrap_or_default()
    }

    /// The theme a `COLORFGBG` value asks for ("15;0" dark, "0;15" light, "0;default;15" light),
    /// or `None` if it does not say.
    pub fn from_colorfgbg(value: &str) -> Option<ThemeName> {
        let bg: u8 = value.rsplit(';').next()?.trim().parse().ok()?;
        match bg {
            0..=6 | 8 => Some(ThemeName::Dark),
            7 | 9..=15 => Some(ThemeName::Light),
            _ => None,
        }
    }
}

/// A theme's colours: the background of the whole screen and one colour for each role. All are
/// `Color::Indexed` from 16 to 255 (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    /// The background of every cell.
    pub background: Color,
    /// Ordinary text.
    pub text: Color,
    /// Secondary text (meanings, times, hints).
    pub dim: Color,
    /// Headings, the title, the classroom banner.
    pub heading: Color,
    /// Borders and titles of the panes without the focus.
    pub border: Color,
    /// The border and title of the focused pane, the lesson's focus line.
    pub focused: Color,
    /// Warnings: retransmissions, undecryptable records, errors.
    pub warn: Color,
    /// Client → server.
    pub client: Color,
    /// Server → client.
    pub server: Color,
    /// One colour per layer, Application first (see [`UiLayer::ALL`]).
    pub layers: [Color; 5],
}

impl Palette {
    /// Every colour drawn as text (or as the background of reversed text) on [`Palette::background`],
    /// with its role: what the contrast test checks.
    pub fn text_colours(&self) -> Vec<(&'static str, Color)> {
        let mut out = vec![
            ("text", self.text),
            ("dim", self.dim),
            ("heading", self.heading),
            ("border", self.border),
            ("focused", self.focused),
            ("warn", self.warn),
            ("client", self.client),
            ("server", self.server),
        ];
        for layer in UiLayer::ALL {
            out.push((layer.title(), self.layers[layer.index()]));
        }
        out
    }
}

/// Light text on near-black (xterm 234, #1c1c1c).
pub const DARK: Palette = Palette {
    background: Color::Indexed(234),
    text: Color::Indexed(252),
    dim: Color::Indexed(248),
    heading: Color::Indexed(231),
    border: Color::Indexed(245),
    focused: Color::Indexed(231),
    warn: Color::Indexed(203),
    client: Color::Indexed(111),
    server: Color::Indexed(114),
    layers: [
        Color::Indexed(77),  // Application: green #5fd75f
        Color::Indexed(177), // TLS: magenta #d787ff
        Color::Indexed(221), // TCP: yellow #ffd75f
        Color::Indexed(80),  // IP: cyan #5fd7d7
        Color::Indexed(210), // Link: light red #ff8787
    ],
};

/// Dark text on white (xterm 231, #ffffff): the layer colours are the dark shades of the same hues.
pub const LIGHT: Palette = Palette {
    background: Color::Indexed(231),
    text: Color::Indexed(235),
    dim: Color::Indexed(240),
    heading: Color::Indexed(16),
    border: Color::Indexed(242),
    focused: Color::Indexed(18),
    warn: Color::Indexed(124),
    client: Color::Indexed(25),
    server: Color::Indexed(22),
    layers: [
        Color::Indexed(28),  // Application: green #008700
        Color::Indexed(90),  // TLS: magenta #870087
        Color::Indexed(94),  // TCP: dark yellow #875f00
        Color::Indexed(23),  // IP: dark cyan #005f5f
        Color::Indexed(161), // Link: red #d7005f
    ],
};

/// White and saturated colours on black (xterm 16, #000000).
pub const HIGH_CONTRAST: Palette = Palette {
    background: Color::Indexed(16),
    text: Color::Indexed(231),
    dim: Color::Indexed(252),
    heading: Color::Indexed(231),
    border: Color::Indexed(250),
    focused: Color::Indexed(231),
    warn: Color::Indexed(203),
    client: Color::Indexed(117),
    server: Color::Indexed(120),
    layers: [
        Color::Indexed(46),  // Application: green #00ff00
        Color::Indexed(207), // TLS: magenta #ff5fff
        Color::Indexed(226), // TCP: yellow #ffff00
        Color::Indexed(51),  // IP: cyan #00ffff
        Color::Indexed(210), // Link: light red #ff8787
    ],
};

/// The RGB value of an xterm 256-colour index from 16 to 255 (the 6×6×6 cube, then 24 greys);
/// `None` for 0–15, whose colours each terminal chooses.
pub fn xterm_rgb(index: u8) -> Option<(u8, u8, u8)> {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match index {
        0..=15 => None,
        16..=231 => {
            let i = index - 16;
            Some((
                LEVELS[usize::from(i / 36)],
                LEVELS[usize::from(i / 6 % 6)],
                LEVELS[usize::from(i % 6)],
            ))
        }
        232..=255 => {
            let v = 8 + 10 * (index - 232);
            Some((v, v, v))
        }
    }
}

/// A colour's RGB value, if the terminal cannot choose it: `Color::Rgb`, or an xterm index from 16
/// to 255. The named colours, indices 0–15 and `Color::Reset` give `None`.
pub fn known_rgb(color: Color) -> Option<(u8, u8, u8)> {
    match color {
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i) => xterm_rgb(i),
        _ => None,
    }
}

/// Relative luminance of an sRGB colour, as WCAG 2.1 defines it (Understanding SC 1.4.3, "relative
/// luminance"): each channel linearised (c/12.92 up to 0.04045, else ((c+0.055)/1.055)^2.4), then
/// 0.2126 R + 0.7152 G + 0.0722 B.
pub fn relative_luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG 2.1 contrast ratio (L1 + 0.05) / (L2 + 0.05), L1 the lighter: from 1 to 21. SC 1.4.3 asks
/// 4.5:1 for text, SC 1.4.6 7:1.
pub fn contrast_ratio(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// How the UI looks, from the command line: `--theme` (none: [`ThemeName::detect`]) and
/// `--classroom`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Look {
    /// The theme asked for, if any.
    pub theme: Option<ThemeName>,
    /// The classroom layout: no log pane, larger timeline and lesson pane, a banner with the view
    /// and the play state in words.
    pub classroom: bool,
}

impl Look {
    /// The theme to draw with: the one asked for or the terminal's, colourless under `NO_COLOR`.
    pub fn theme(self) -> Theme {
        let name = self.theme.unwrap_or_else(ThemeName::detect);
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme {
            color: !no_color,
            palette: name.palette(),
        }
    }
}

/// The styles the panes draw with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// False under `NO_COLOR`: emphasis only.
    pub color: bool,
    /// The colours, when `color` is true.
    pub palette: &'static Palette,
}

impl Theme {
    /// The theme the environment asks for (`COLORFGBG`), colourless if `NO_COLOR` is set to
    /// anything non-empty.
    pub fn from_env() -> Self {
        Look::default().theme()
    }

    /// A theme with colours on (used by tests that check colours).
    pub fn named(name: ThemeName) -> Self {
        Theme {
            color: true,
            palette: name.palette(),
        }
    }

    /// The dark theme, colours on.
    pub fn colored() -> Self {
        Theme::named(ThemeName::Dark)
    }

    /// No colour at all, as under `NO_COLOR`.
    pub fn no_color() -> Self {
        Theme {
            color: false,
            palette: &DARK,
        }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// The whole screen, drawn first: the theme's background and text colour in every cell.
    pub fn base(self) -> Style {
        if self.color {
            Style::new()
                .fg(self.palette.text)
                .bg(self.palette.background)
        } else {
            Style::new()
        }
    }

    /// The style of a layer's bytes and names.
    pub fn layer(self, layer: UiLayer) -> Style {
        if self.color {
            Style::new().fg(self.palette.layers[layer.index()])
        } else {
            Style::new().add_modifier(match layer {
                UiLayer::Application => Modifier::ITALIC,
                UiLayer::Tls => Modifier::BOLD,
                UiLayer::Tcp => Modifier::UNDERLINED,
                UiLayer::Ip => Modifier::empty(),
                UiLayer::Link => Modifier::DIM,
            })
        }
    }

    /// A selected field's bytes, the selected row: reversed video works with or without colour.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The byte under the hex cursor.
    pub fn cursor(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED | Modifier::BOLD)
    }

    /// The border of the focused pane (drawn with [`Theme::focused_border_type`]).
    pub fn focused_border(self) -> Style {
        self.fg(self.palette.focused).add_modifier(Modifier::BOLD)
    }

    /// The focused pane's border is heavy in every theme (and without colour), so that it shows
    /// on any projector.
    pub fn focused_border_type(self) -> BorderType {
        BorderType::Thick
    }

    /// The border of other panes.
    pub fn border(self) -> Style {
        self.fg(self.palette.border)
    }

    /// Secondary text (meanings, times, hints).
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(self.palette.dim)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    /// Group headings in the timeline.
    pub fn heading(self) -> Style {
        self.fg(self.palette.heading).add_modifier(Modifier::BOLD)
    }

    /// The classroom banner's labels: the heading colour as a bar (reversed), bold.
    pub fn banner(self) -> Style {
        self.heading().add_modifier(Modifier::REVERSED)
    }

    /// Warnings: retransmissions, undecryptable records, errors.
    pub fn warn(self) -> Style {
        if self.color {
            Style::new()
                .fg(self.palette.warn)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }

    /// One direction of a conversation in the stream view and the chat: client → server.
    pub fn client_side(self) -> Style {
        self.fg(self.palette.client)
    }

    /// The other direction: server → client.
    pub fn server_side(self) -> Style {
        if self.color {
            Style::new().fg(self.palette.server)
        } else {
            Style::new().add_modifier(Modifier::ITALIC)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The text colours of `palette` that a terminal may paint as it likes, or that stand below
    /// `min`:1 against its background (WCAG 2.1 contrast ratio), each with its role.
    pub(crate) fn failures(palette: &Palette, min: f64) -> Vec<String> {
        let Some(bg) = known_rgb(palette.background) else {
            return vec![format!(
                "background {:?} is not a fixed colour",
                palette.background
            )];
        };
        let mut out = Vec::new();
        for (role, colour) in palette.text_colours() {
            match known_rgb(colour) {
                None => out.push(format!("{role}: {colour:?} is not a fixed colour")),
                Some(fg) => {
                    let ratio = contrast_ratio(fg, bg);
                    if ratio < min {
                        out.push(format!("{role}: {colour:?} on {bg:?} is {ratio:.2}:1"));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn the_contrast_ratio_is_wcags() {
        let (black, white) = ((0, 0, 0), (255, 255, 255));
        assert!((contrast_ratio(black, white) - 21.0).abs() < 1e-9);
        assert!((contrast_ratio(white, white) - 1.0).abs() < 1e-9);
        // The usual reference points: #767676 is the lightest grey that passes 4.5:1 on white,
        // #777777 just fails (4.48:1).
        let passes = contrast_ratio((0x76, 0x76, 0x76), white);
        let fails = contrast_ratio((0x77, 0x77, 0x77), white);
        assert!((4.5..4.6).contains(&passes), "{passes}");
        assert!((4.4..4.5).contains(&fails), "{fails}");
        // xterm's palette: 231 is white, 16 black, 244 #808080.
        assert_eq!(xterm_rgb(231), Some(white));
        assert_eq!(xterm_rgb(16), Some(black));
        assert_eq!(xterm_rgb(244), Some((128, 128, 128)));
        assert_eq!(xterm_rgb(7), None);
        assert_eq!(known_rgb(Color::Gray), None);
    }

    #[test]
    fn every_text_colour_of_every_theme_reaches_4_5_to_1() {
        for name in ThemeName::ALL {
            // The high-contrast theme promises WCAG's enhanced level (SC 1.4.6).
            let min = if name == ThemeName::HighContrast {
                7.0
            } else {
                4.5
            };
            let bad = failures(name.palette(), min);
            assert!(bad.is_empty(), "{name:?}: {bad:#?}");
        }
    }

    #[test]
    fn the_check_catches_yellow_on_white_and_palette_colours() {
        let mut yellow = LIGHT.clone();
        yellow.layers[UiLayer::Tcp.index()] = Color::Indexed(226); // #ffff00
        assert!(failures(&yellow, 4.5).iter().any(|f| f.starts_with("TCP")));
        let mut grey = DARK.clone();
        grey.dim = Color::DarkGray;
        assert!(failures(&grey, 4.5).iter().any(|f| f.starts_with("dim")));
    }

    #[test]
    fn colorfgbg_says_which_theme() {
        assert_eq!(ThemeName::from_colorfgbg("15;0"), Some(ThemeName::Dark));
        assert_eq!(ThemeName::from_colorfgbg("0;15"), Some(ThemeName::Light));
        assert_eq!(
            ThemeName::from_colorfgbg("0;default;7"),
            Some(ThemeName::Light)
        );
        assert_eq!(ThemeName::from_colorfgbg("7;8"), Some(ThemeName::Dark));
        assert_eq!(ThemeName::from_colorfgbg("default;default"), None);
        assert_eq!(ThemeName::from_colorfgbg(""), None);
    }
}
