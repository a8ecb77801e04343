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

#[cfg(test)]
mod tests {
    use super::{CATALOGUE, Catalogue, Lang};
    use std::collections::BTreeSet;

    /// The codes of `prefix` (`problem.`, `hint.`) in `lang`'s file.
    fn codes<'a>(catalogue: &'a Catalogue, lang: Lang, prefix: &str) -> BTreeSet<&'a str> {
        catalogue.keys(lang).filter_map(|key| key.strip_prefix(prefix)).collect()
    }

    /// Beside `console::tests::catalogue_files_parse_and_have_the_same_keys_with_no_empty_string`: a refusal
    /// shows its title and, under it, what the rule is and what to do next (`hint.<code>`), so every titled
    /// code has a hint in both languages, no hint is left without its title, and a hint is really written in
    /// each language (not empty, not the other language's text).
    #[test]
    fn every_problem_title_has_a_hint_in_both_languages_and_every_hint_a_title() {
        let catalogue = Catalogue::parse().expect("both catalogue files parse");
        let mut wrong = Vec::new();
        for lang in Lang::ALL {
            let titles = codes(&catalogue, lang, "problem.");
            let hints = codes(&catalogue, lang, "hint.");
            assert!(titles.len() > 50, "the problem titles are found ({})", titles.len());
            for code in titles.difference(&hints) {
                wrong.push(format!("hint.{code} missing ({})", lang.tag()));
            }
            for code in hints.difference(&titles) {
                wrong.push(format!("hint.{code} has no problem.{code} ({})", lang.tag()));
            }
        }
        for code in codes(&catalogue, Lang::Zh, "hint.") {
            let key = format!("hint.{code}");
            let zh = catalogue.get(Lang::Zh, &key).unwrap_or_default().trim();
            let en = catalogue.get(Lang::En, &key).unwrap_or_default().trim();
            if zh.is_empty() || en.is_empty() {
                wrong.push(format!("{key} is empty in a language"));
            }
            if zh == en {
                wrong.push(format!("{key} is the same text in both languages"));
            }
            if !zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
                wrong.push(format!("{key} (zh-CN) has no Chinese"));
            }
            if en
                .chars()
                .any(|c| ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c))
            {
                wrong.push(format!("{key} (en) has Chinese text or punctuation"));
            }
        }
        assert!(wrong.is_empty(), "hints:\n{}", wrong.join("\n"));
    }

    /// Every code the API can answer (the rules' and its own) has a title and a hint in both languages, and
    /// the label of the detail the console shows under the hint is there too.
    #[test]
    fn every_code_the_api_answers_has_a_hint_in_both_languages() {
        let mut missing = Vec::new();
        for code in domain::Rejection::CODES.iter().chain(crate::error::API_CODES) {
            for lang in Lang::ALL {
                for key in [format!("problem.{code}"), format!("hint.{code}")] {
                    if CATALOGUE.get(lang, &key).is_none() {
                        missing.push(format!("{key} ({})", lang.tag()));
                    }
                }
            }
        }
        for lang in Lang::ALL {
            if CATALOGUE.get(lang, "label.problem_detail").is_none() {
                missing.push(format!("label.problem_detail ({})", lang.tag()));
            }
        }
        assert!(missing.is_empty(), "missing: {missing:?}");
    }

    /// The check above can fail: a catalogue without one hint is caught.
    #[test]
    fn a_missing_hint_is_caught() {
        let zh = super::FILES[0]
            .1
            .lines()
            .filter(|line| !line.starts_with("\"hint.cap_exceeded\""))
            .collect::<Vec<_>>()
            .join("\n");
        let zh: std::collections::BTreeMap<String, String> = toml::from_str(&zh).expect("parses");
        assert!(zh.contains_key("problem.cap_exceeded") && !zh.contains_key("hint.cap_exceeded"));
        assert!(CATALOGUE.get(Lang::Zh, "hint.cap_exceeded").is_some());
        assert!(crate::console::layout::hint(Lang::En, "no_such_code").is_none(), "no hint, no paragraph");
    }
}
