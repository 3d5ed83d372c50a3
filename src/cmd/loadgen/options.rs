//! Parsers for `loadgen`'s option values: durations (`30s`, `2m`, `500ms`, plain seconds) and
//! the shop journey mix (`browse=30,search=25,…`).

use std::time::Duration;

/// Parses `500ms`, `5s`, `2m`, `1h` or a plain number of seconds (`1.5` allowed).
///
/// # Errors
/// A message naming the accepted forms.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|character: char| !(character.is_ascii_digit() || character == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let refuse = || format!("`{text}` is not a duration: say e.g. 500ms, 30s, 2m, 1h or a number of seconds");
    let value: f64 = number.parse().map_err(|_| refuse())?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" | "sec" | "secs" => value,
        "m" | "min" | "mins" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(refuse()),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| refuse())
}

/// The shop journeys, each with a weight: the odds of being picked next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Journey {
    Browse,
    Search,
    ViewBook,
    AddToCart,
    ViewCart,
    Login,
    Checkout,
}

impl Journey {
    const ALL: [Journey; 7] = [
        Journey::Browse,
        Journey::Search,
        Journey::ViewBook,
        Journey::AddToCart,
        Journey::ViewCart,
        Journey::Login,
        Journey::Checkout,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Journey::Browse => "browse",
            Journey::Search => "search",
            Journey::ViewBook => "book",
            Journey::AddToCart => "add",
            Journey::ViewCart => "cart",
            Journey::Login => "login",
            Journey::Checkout => "checkout",
        }
    }

    /// The default weights: mostly looking, some carting, few checkouts.
    fn default_weight(self) -> u32 {
        match self {
            Journey::Browse => 30,
            Journey::Search => 25,
            Journey::ViewBook => 20,
            Journey::AddToCart => 10,
            Journey::ViewCart => 8,
            Journey::Login => 4,
            Journey::Checkout => 3,
        }
    }
}

/// The weight of every journey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mix {
    weights: Vec<(Journey, u32)>,
    total: u32,
}

/// The `--mix` default, spelled as the option takes it.
pub(crate) const DEFAULT_MIX: &str = "browse=30,search=25,book=20,add=10,cart=8,login=4,checkout=3";

impl Mix {
    /// Parses `name=weight` pairs; journeys not named keep their default weight.
    ///
    /// # Errors
    /// A message naming the bad pair and the journey names.
    pub(crate) fn parse(text: &str) -> Result<Mix, String> {
        let mut weights: Vec<(Journey, u32)> = Journey::ALL
            .iter()
            .map(|journey| (*journey, journey.default_weight()))
            .collect();
        for pair in text.split(',').filter(|pair| !pair.trim().is_empty()) {
            let refuse = || {
                let names: Vec<&str> = Journey::ALL.iter().map(|journey| journey.as_str()).collect();
                format!(
                    "`{pair}` is not name=weight with a name among {}",
                    names.join(", ")
                )
            };
            let (name, weight) = pair.split_once('=').ok_or_else(refuse)?;
            let weight: u32 = weight.trim().parse().map_err(|_| refuse())?;
            let slot = weights
                .iter_mut()
                .find(|(journey, _)| journey.as_str() == name.trim())
                .ok_or_else(refuse)?;
            slot.1 = weight;
        }
        let total = weights.iter().map(|(_, weight)| *weight).sum();
        if total == 0 {
            return Err("at least one journey needs a weight above 0".to_owned());
        }
        Ok(Mix { weights, total })
    }

    /// Returns the journey that `ticket` (in `0..total`) falls on.
    pub(crate) fn pick(&self, ticket: u32) -> Journey {
        let mut remaining = ticket % self.total;
        for (journey, weight) in &self.weights {
            if remaining < *weight {
                return *journey;
            }
            remaining -= weight;
        }
        Journey::Browse
    }

    pub(crate) fn total(&self) -> u32 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_or_plain_seconds() {
        let cases = [
            ("5s", Duration::from_secs(5)),
            ("2m", Duration::from_secs(120)),
            ("500ms", Duration::from_millis(500)),
            ("1h", Duration::from_secs(3600)),
            ("30", Duration::from_secs(30)),
            ("1.5", Duration::from_millis(1500)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text), Ok(expected), "{text}");
        }
        for bad in ["", "s", "5x", "-1s", "five"] {
            assert!(parse_duration(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn the_mix_overrides_named_weights_and_picks_by_ticket() {
        let default = Mix::parse(DEFAULT_MIX).unwrap();
        assert_eq!(
            default,
            Mix::parse("").unwrap(),
            "the constant spells the defaults"
        );
        assert_eq!(default.total(), 100);
        assert_eq!(default.pick(0), Journey::Browse);
        assert_eq!(default.pick(99), Journey::Checkout);

        let only_cart = Mix::parse("browse=0,search=0,book=0,add=0,login=0,checkout=0").unwrap();
        assert_eq!(only_cart.pick(3), Journey::ViewCart);
        assert!(Mix::parse("teleport=3").is_err());
        assert!(Mix::parse("browse=x").is_err());
        assert!(Mix::parse("browse=0,search=0,book=0,add=0,cart=0,login=0,checkout=0").is_err());
    }
}
