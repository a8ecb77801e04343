//! The console's language: the catalogue of every visible string in zh-CN and en (`i18n/zh-CN.toml`,
//! `i18n/en.toml`, embedded), which language a request reads (a remembered switch, then Accept-Language),
//! and how amounts and dates are written in each. The API's problem titles come from the same catalogue
//! (`problem.<code>`), so a refusal reads the same in the console and over the API.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::http::{HeaderMap, header};
use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};
use rust_decimal::Decimal;

/// The cookie that remembers the language switch.
pub const LANG_COOKIE: &str = "vl_lang";

/// A language of the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// Both languages, Chinese first.
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// The BCP 47 tag (`zh-CN`, `en`), as in `<html lang>` and the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language a tag names (`zh`, `zh-CN`, `zh-Hans`, `en`, `en-GB`, ...), if one of ours.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language the browser prefers among ours (Accept-Language, by `q`), if it names one.
    pub fn from_accept_language(headers: &HeaderMap) -> Option<Lang> {
        let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
        let mut best: Option<(f32, usize, Lang)> = None;
        for (index, item) in value.split(',').enumerate() {
            let mut pieces = item.split(';');
            let Some(lang) = pieces.next().and_then(Lang::from_tag) else { continue };
            let q = pieces
                .filter_map(|piece| piece.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            // Higher q first; on equal q, the earlier entry.
            if best.is_none_or(|(best_q, best_index, _)| q > best_q || (q == best_q && index < best_index)) {
                best = Some((q, index, lang));
            }
        }
        best.map(|(_, _, lang)| lang)
    }

    /// The console's language for a request: the remembered switch, then Accept-Language, then Chinese.
    pub fn for_console(headers: &HeaderMap) -> Lang {
        crate::console::cookies::cookie(headers, LANG_COOKIE)
            .and_then(|value| Lang::from_tag(&value))
            .or_else(|| Lang::from_accept_language(headers))
            .unwrap_or(Lang::Zh)
    }

    /// The API's language for a request: Accept-Language, English when it names neither of ours.
    pub fn for_api(headers: &HeaderMap) -> Lang {
        Lang::from_accept_language(headers).unwrap_or(Lang::En)
    }

    /// The catalogue's string `key` in this language; the key itself when missing (the catalogue test
    /// fails on any key the console's sources use that either file lacks).
    pub fn t(self, key: &str) -> &'static str {
        CATALOGUE.get(self, key).unwrap_or_else(|| missing(key))
    }

    /// The catalogue's string `key` with `{name}` placeholders replaced.
    pub fn tf(self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// An amount as `¥1,250.50` (two decimals, thousands grouped; the same in both languages). A text that
    /// is not a number is returned as it is.
    pub fn money_text(self, text: &str) -> String {
        match text.trim().parse::<Decimal>() {
            Ok(amount) => money(amount),
            Err(_) => text.to_owned(),
        }
    }

    /// A business date as the language writes it: `2025年3月12日`, `12 Mar 2025`.
    pub fn date(self, date: NaiveDate) -> String {
        match self {
            Lang::Zh => date.format("%Y年%-m月%-d日").to_string(),
            Lang::En => date.format("%-d %b %Y").to_string(),
        }
    }

    /// A `YYYY-MM-DD` text as a date in this language; other text as it is.
    pub fn date_text(self, text: &str) -> String {
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => self.date(date),
            Err(_) => text.to_owned(),
        }
    }

    /// An instant in Asia/Shanghai (UTC+8, no daylight saving time), as the language writes it.
    pub fn instant(self, instant: DateTime<Utc>) -> String {
        let local = instant.with_timezone(&shanghai());
        format!("{} {}", self.date(local.date_naive()), local.format("%H:%M"))
    }
}

/// Asia/Shanghai: UTC+8 all year (China has had no daylight saving time since 1991).
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The business date of an instant (Asia/Shanghai).
pub fn business_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&shanghai()).date_naive()
}

/// `amount` as `¥1,250.50`, `-¥3.00`: rounded to fen (banker's rounding never applies: ledger amounts have
/// two places), thousands grouped with commas.
pub fn money(amount: Decimal) -> String {
    let rounded = amount.round_dp(2);
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = format!("{:.2}", rounded.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{}¥{grouped}.{fraction}", if negative { "-" } else { "" })
}

fn missing(key: &str) -> &'static str {
    tracing::warn!(key, "console string missing from the catalogue");
    // Leaking is bounded: the keys are the sources' literals, a finite set.
    static SEEN: LazyLock<std::sync::Mutex<BTreeMap<String, &'static str>>> = LazyLock::new(Default::default);
    let mut seen = SEEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(text) = seen.get(key) {
        return text;
    }
    let text: &'static str = Box::leak(key.to_owned().into_boxed_str());
    seen.insert(key.to_owned(), text);
    text
}

/// The two catalogue files, as embedded.
pub const FILES: [(Lang, &str); 2] =
    [(Lang::Zh, include_str!("i18n/zh-CN.toml")), (Lang::En, include_str!("i18n/en.toml"))];

/// Every string of both languages, by key.
#[derive(Debug)]
pub struct Catalogue {
    zh: BTreeMap<String, String>,
    en: BTreeMap<String, String>,
}

impl Catalogue {
    /// Parses the embedded files.
    ///
    /// # Errors
    /// When a file is not a flat TOML table of strings.
    pub fn parse() -> Result<Catalogue, toml::de::Error> {
        Ok(Catalogue { zh: toml::from_str(FILES[0].1)?, en: toml::from_str(FILES[1].1)? })
    }

    /// The string `key` in `lang`.
    pub fn get(&self, lang: Lang, key: &str) -> Option<&str> {
        match lang {
            Lang::Zh => self.zh.get(key),
            Lang::En => self.en.get(key),
        }
        .map(String::as_str)
    }

    /// Every key of `lang`'s file.
    pub fn keys(&self, lang: Lang) -> impl Iterator<Item = &str> {
        match lang {
            Lang::Zh => self.zh.keys(),
            Lang::En => self.en.keys(),
        }
        .map(String::as_str)
    }
}

/// The catalogue, parsed once (an unparsable file is caught by the tests; at run time it is empty).
pub static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    Catalogue::parse().unwrap_or_else(|error| {
        tracing::error!(%error, "the console's catalogue does not parse");
        Catalogue { zh: BTreeMap::new(), en: BTreeMap::new() }
    })
});
