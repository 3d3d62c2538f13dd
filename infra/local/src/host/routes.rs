//! The HTTP API's routes as the template declares them, matched like API Gateway does:
//! `{name}` is one path segment, `{proxy+}` is the rest of the path.

use crate::template::{EventDef, LocalTemplate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub path: String,
    pub method: String,
    pub authorized: bool,
    pub binary: String,
}

#[derive(Debug, Clone)]
pub struct RouteTable {
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'a> {
    pub route: &'a Route,
    pub path_parameters: Vec<(String, String)>,
}

impl RouteTable {
    pub fn from_template(template: &LocalTemplate) -> Self {
        let routes = template
            .functions
            .iter()
            .flat_map(|f| {
                f.events.iter().filter_map(move |e| match e {
                    EventDef::Http {
                        path,
                        method,
                        authorized,
                    } => Some(Route {
                        path: path.clone(),
                        method: method.clone(),
                        authorized: *authorized,
                        binary: f.binary.clone(),
                    }),
                    _ => None,
                })
            })
            .collect();
        Self { routes }
    }

    /// The most specific matching route (fewest greedy segments wins).
    pub fn find(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        let mut best: Option<Matched> = None;
        for route in &self.routes {
            if route.method != "ANY" && !route.method.eq_ignore_ascii_case(method) {
                continue;
            }
            if let Some(params) = match_path(&route.path, path) {
                let greedy = route.path.contains("+}");
                if best
                    .as_ref()
                    .is_none_or(|b| b.route.path.contains("+}") && !greedy)
                {
                    best = Some(Matched {
                        route,
                        path_parameters: params,
                    });
                }
            }
        }
        best
    }
}

fn match_path(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let pattern: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut params = Vec::new();
    for (i, part) in pattern.iter().enumerate() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            let rest = segments.get(i..)?.join("/");
            if rest.is_empty() {
                return None;
            }
            params.push((name.to_string(), rest));
            return Some(params);
        }
        let segment = segments.get(i)?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if segment.is_empty() {
                return None;
            }
            params.push((name.to_string(), segment.to_string()));
        } else if part != segment {
            return None;
        }
    }
    (segments.len() == pattern.len()).then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_api_gateway() {
        assert_eq!(
            match_path("/v1/{proxy+}", "/v1/companies/a"),
            Some(vec![("proxy".into(), "companies/a".into())])
        );
        assert_eq!(match_path("/v1/{proxy+}", "/v1"), None);
        assert_eq!(
            match_path("/oauth/callback", "/oauth/callback"),
            Some(vec![])
        );
        assert_eq!(match_path("/oauth/callback", "/oauth/callback/x"), None);
        assert_eq!(
            match_path("/a/{id}", "/a/7"),
            Some(vec![("id".into(), "7".into())])
        );
    }

    #[test]
    fn the_template_routes_reach_their_functions() {
        let template = LocalTemplate::load(&crate::paths::template()).unwrap();
        let table = RouteTable::from_template(&template);
        assert_eq!(
            table
                .find("GET", "/v1/companies/a/ingredients")
                .unwrap()
                .route
                .binary,
            "admin-api"
        );
        let callback = table.find("GET", "/oauth/callback").unwrap();
        assert_eq!(
            (callback.route.binary.as_str(), callback.route.authorized),
            ("oauth-callback", false)
        );
        assert_eq!(
            table
                .find("POST", "/webhooks/lightspeed")
                .unwrap()
                .route
                .binary,
            "webhook"
        );
        assert!(table.find("GET", "/webhooks/lightspeed").is_none());
        assert!(table.find("GET", "/nowhere").is_none());
    }
}
