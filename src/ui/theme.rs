//! Colours and emphasis. Each layer has one colour, the same in every pane (timeline, columns, hex
//! legend, strip), so a student can follow "the yellow bytes are TCP" across the screen.
//!
//! With `NO_COLOR` set (<https://no-color.org>), no colour is emitted at all: layers are told apart
//! by emphasis instead (bold, underline, italic, dim), and selections stay visible as reversed video.

use ratatui::style::{Color, Modifier, Style};

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

/// The styles the panes draw with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// False under `NO_COLOR`: emphasis only.
    pub color: bool,
}

impl Theme {
    /// The theme the environment asks for: colourless if `NO_COLOR` is set to anything non-empty.
    pub fn from_env() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    /// Colours on (used by snapshot tests that check colours).
    pub fn colored() -> Self {
        Theme { color: true }
    }

    /// The style of a layer's bytes and names.
    pub fn layer(self, layer: UiLayer) -> Style {
        if self.color {
            Style::new().fg(match layer {
                UiLayer::Application => Color::Green,
                UiLayer::Tls => Color::Magenta,
                UiLayer::Tcp => Color::Yellow,
                UiLayer::Ip => Color::Cyan,
                UiLayer::Link => Color::LightRed,
            })
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

    /// The border of the focused pane.
    pub fn focused_border(self) -> Style {
        if self.color {
            Style::new().fg(Color::White).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }

    /// The border of other panes.
    pub fn border(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    /// Secondary text (meanings, times, hints).
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::Gray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    /// Group headings in the timeline.
    pub fn heading(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Warnings: retransmissions, undecryptable records, errors.
    pub fn warn(self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }

    /// One direction of a conversation in the stream view and the chat: client → server.
    pub fn client_side(self) -> Style {
        if self.color {
            Style::new().fg(Color::LightBlue)
        } else {
            Style::new()
        }
    }

    /// The other direction: server → client.
    pub fn server_side(self) -> Style {
        if self.color {
            Style::new().fg(Color::LightGreen)
        } else {
            Style::new().add_modifier(Modifier::ITALIC)
        }
    }
}
