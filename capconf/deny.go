package capconf

// Denies reports whether a rule with the capability field text grants a
// user nothing: "none", or only Bounding drops ("!cap_x,..."), which also
// leave the Inheritable set empty. It returns the Bounding capabilities
// the rule drops. A rule naming a group this way denies only while NSS can
// tell who is in the group: when it cannot (the group's directory out of
// reach), the rule does not match and a later one may.
func Denies(text string) (drops uint64, ok bool) {
	switch text {
	case "none":
		return 0, true
	case "all":
		return 0, false
	}
	v, err := ParseIAB(text)
	if err != nil || v.Inh|v.Amb != 0 {
		return 0, false
	}
	return v.Bound, true
}

// GrantsMore reports whether a user given the capability field text
// instead of a denying rule's (one that drops the Bounding capabilities
// drops, see Denies) ends up with more: any Inheritable or Ambient
// capability, a Bounding capability the denying rule would drop, or
// "all", which leaves the user's capabilities as they are. Text that does
// not parse grants nothing.
func GrantsMore(text string, drops uint64) bool {
	switch text {
	case "all":
		return true
	case "none":
		return drops != 0
	}
	v, err := ParseIAB(text)
	if err != nil {
		return false
	}
	return v.Inh|v.Amb != 0 || drops&^v.Bound != 0
}
