//! Duration literals: `500ms`, `5s`, `1.5s`, `2m`, `1h`, `1d`.

use crate::ast::Millis;
use syn::parse::ParseStream;
use syn::Lit;

const HELP: &str = "expected a duration such as `500ms`, `5s`, `1.5s`, `2m` or `1h`";

/// Parses one duration literal.
pub(crate) fn parse(input: ParseStream) -> syn::Result<Millis> {
    let lit: Lit = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), format!("malformed duration: {HELP}")))?;
    from_lit(&lit)
}

pub(crate) fn from_lit(lit: &Lit) -> syn::Result<Millis> {
    let span = lit.span();
    let (value, suffix): (f64, &str) = match lit {
        Lit::Int(i) => (
            i.base10_digits()
                .parse()
                .map_err(|_| syn::Error::new(span, format!("malformed duration: {HELP}")))?,
            i.suffix(),
        ),
        Lit::Float(f) => (
            f.base10_digits()
                .parse()
                .map_err(|_| syn::Error::new(span, format!("malformed duration: {HELP}")))?,
            f.suffix(),
        ),
        _ => {
            return Err(syn::Error::new(
                span,
                format!("malformed duration `{}`: {HELP}", quote::quote!(#lit)),
            ))
        }
    };
    let unit_ms = match suffix {
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        "" => {
            return Err(syn::Error::new(
                span,
                format!(
                    "malformed duration `{}`: missing unit; {HELP}",
                    quote::quote!(#lit)
                ),
            ))
        }
        other => {
            return Err(syn::Error::new(
                span,
                format!(
                    "malformed duration `{}`: unknown unit `{other}`; {HELP}",
                    quote::quote!(#lit)
                ),
            ))
        }
    };
    let ms = value * unit_ms;
    if !(ms.is_finite() && ms >= 0.0 && ms <= u64::MAX as f64) || ms.fract() != 0.0 {
        return Err(syn::Error::new(
            span,
            format!(
                "malformed duration `{}`: not a whole number of milliseconds",
                quote::quote!(#lit)
            ),
        ));
    }
    Ok(Millis {
        ms: ms as u64,
        span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(src: &str) -> Result<u64, String> {
        syn::parse::Parser::parse_str(parse, src)
            .map(|m| m.ms)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn units() {
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("5s"), Ok(5_000));
        assert_eq!(ms("1.5s"), Ok(1_500));
        assert_eq!(ms("2m"), Ok(120_000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        assert_eq!(ms("1d"), Ok(86_400_000));
        assert!(ms("5").unwrap_err().contains("missing unit"));
        assert!(ms("5x").unwrap_err().contains("unknown unit `x`"));
        assert!(ms("\"5s\"").unwrap_err().contains("malformed duration"));
        assert!(ms("0.5ms").unwrap_err().contains("whole number"));
    }
}
