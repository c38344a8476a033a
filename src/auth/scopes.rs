//! The scopes food-mcp grants and how a requested `scope` parameter is read.

/// Read foods, nutrition, meals and the diary: search_food, get_nutrition, calculate_meal,
/// get_diary, get_goals.
pub const READ: &str = "food:read";
/// Change the owner's data: save_food and the diary's writes ([`WRITE_TOOLS`]).
pub const WRITE: &str = "food:write";
/// The tools that change the owner's data; every other tool only reads. `mcp::server` checks
/// that this list and the tools' `readOnlyHint` annotations agree.
pub const WRITE_TOOLS: [&str; 5] = [
    "save_food",
    "log_food",
    "update_diary_entry",
    "delete_diary_entry",
    "set_goals",
];

/// The scope calling `tool` needs.
pub fn for_tool(tool: &str) -> &'static str {
    if WRITE_TOOLS.contains(&tool) {
        WRITE
    } else {
        READ
    }
}
/// Every scope a token can carry.
pub const SCOPES: [&str; 2] = [READ, WRITE];
/// Accepted in requests (some clients always ask for it) and ignored: refresh tokens are always
/// issued. Listed in the authorization-server metadata, never in the resource's challenge.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// Parses a space-separated `scope` parameter. No scope (or only `offline_access`) means every
/// scope; an unknown scope is an error naming it.
pub fn parse(scope: Option<&str>) -> Result<Vec<String>, String> {
    let mut granted: Vec<String> = Vec::new();
    for word in scope.unwrap_or("").split_whitespace() {
        if word == OFFLINE_ACCESS {
            continue;
        }
        if !SCOPES.contains(&word) {
            return Err(format!(
                "unknown scope \"{word}\"; this server grants {}",
                SCOPES.join(" ")
            ));
        }
        if !granted.iter().any(|g| g == word) {
            granted.push(word.to_string());
        }
    }
    if granted.is_empty() {
        granted = SCOPES.iter().map(|s| s.to_string()).collect();
    }
    granted.sort();
    Ok(granted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_means_everything_and_offline_access_is_ignored() {
        assert_eq!(parse(None).unwrap(), ["food:read", "food:write"]);
        assert_eq!(
            parse(Some("offline_access")).unwrap(),
            ["food:read", "food:write"]
        );
        assert_eq!(
            parse(Some("food:read offline_access food:read")).unwrap(),
            ["food:read"]
        );
        assert!(
            parse(Some("food:read admin"))
                .unwrap_err()
                .contains("\"admin\"")
        );
    }
}
