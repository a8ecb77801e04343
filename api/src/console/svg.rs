//! Pictures drawn on the server as inline SVG (no script, no style attribute: the CSP allows neither
//! inline): bars for money by stage, columns for use over time.

use maud::{Markup, html};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Horizontal bars: (label, amount, shown value), scaled to the largest. `id` is the figure's test id.
pub fn bars(id: &str, title: &str, items: &[(String, Decimal, String)]) -> Markup {
    let max = items.iter().map(|(_, amount, _)| *amount).max().unwrap_or(Decimal::ZERO);
    let row = 28;
    let height = row * items.len().max(1) + 8;
    let width = 640;
    let label_width = 150;
    let bar_max = width - label_width - 170;
    html! {
        figure data-testid=(id) {
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {width} {height}")) role="img" aria-label=(title) class="chart" {
                title { (title) }
                @for (index, (label, amount, shown)) in items.iter().enumerate() {
                    @let y = 4 + index * row;
                    @let length = scale(*amount, max, bar_max);
                    text x="0" y=(y + 18) class="label" { (label) }
                    rect x=(label_width) y=(y + 4) width=(length) height="18" rx="2" class=(format!("bar bar{}", index % 6)) {}
                    text x=(label_width + length + 6) y=(y + 18) class="value" { (shown) }
                }
            }
            figcaption { (title) }
        }
    }
}

/// Columns over time: (label, amount), scaled to the largest.
pub fn columns(id: &str, title: &str, items: &[(String, Decimal)]) -> Markup {
    let max = items.iter().map(|(_, amount)| *amount).max().unwrap_or(Decimal::ZERO);
    let width = 640;
    let height = 180;
    let step = if items.is_empty() { width } else { width / items.len() };
    let bar = step.saturating_sub(6).max(2);
    html! {
        figure data-testid=(id) {
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {width} {}", height + 20)) role="img" aria-label=(title) class="chart" {
                title { (title) }
                @for (index, (label, amount)) in items.iter().enumerate() {
                    @let length = scale(*amount, max, height - 10);
                    rect x=(index * step + 3) y=(height - length) width=(bar) height=(length) class="bar bar0" {}
                    text x=(index * step + step / 2) y=(height + 15) class="tick" text-anchor="middle" { (label) }
                }
            }
            figcaption { (title) }
        }
    }
}

fn scale(amount: Decimal, max: Decimal, span: usize) -> usize {
    if max <= Decimal::ZERO || amount <= Decimal::ZERO {
        return 0;
    }
    let ratio = (amount / max).to_f64().unwrap_or(0.0).clamp(0.0, 1.0);
    // A length in pixels: only drawing uses a float, never money.
    (ratio * span as f64).round() as usize
}
