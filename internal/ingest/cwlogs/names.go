package cwlogs

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// The model's constraints on names.
var (
	groupNamePattern = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]+$`)
	identifierChars  = regexp.MustCompile(`^[\w#+=/:,.@-]*$`)
	tagKeyPattern    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
)

func checkGroupName(member, name string) error {
	switch {
	case name == "" || len(name) > 512:
		return validation(member, name, "have length between 1 and 512")
	case !groupNamePattern.MatchString(name):
		return validation(member, name, `satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`)
	}
	return nil
}

func checkStreamName(member, name string) error {
	switch {
	case name == "" || utf8.RuneCountInString(name) > 512:
		return validation(member, name, "have length between 1 and 512")
	case strings.ContainsAny(name, ":*"):
		return validation(member, name, "satisfy regular expression pattern: [^:*]*")
	case !utf8.ValidString(name):
		return validation(member, name, "be valid UTF-8")
	}
	return nil
}

// groupFromIdentifier returns the group a logGroupIdentifier names: a name, or an ARN
// (arn:aws:logs:REGION:ACCOUNT:log-group:NAME, with or without a trailing ":*").
func groupFromIdentifier(member, id string) (string, error) {
	if id == "" || len(id) > 2048 || !identifierChars.MatchString(id) {
		return "", validation(member, id, `satisfy regular expression pattern: [\w#+=/:,.@-]*`)
	}
	if !strings.HasPrefix(id, "arn:") {
		return id, checkGroupName(member, id)
	}
	return groupFromARN(member, id)
}

// groupFromARN returns the log group an ARN names.
func groupFromARN(member, arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[2] != "logs" || parts[5] != "log-group" {
		return "", invalidParameter("%s: %q is not a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)", member, truncate(arn, 200))
	}
	name := strings.TrimSuffix(parts[6], ":*")
	return name, checkGroupName(member, name)
}

// groupOf returns the group a request names by logGroupName or logGroupIdentifier, of
// which it must give exactly one.
func groupOf(name, identifier string) (string, error) {
	switch {
	case name != "" && identifier != "":
		return "", invalidParameter("LogGroupName and LogGroupIdentifier are mutually exclusive; specify only one.")
	case identifier != "":
		return groupFromIdentifier("logGroupIdentifier", identifier)
	case name == "":
		return "", invalidParameter("Either LogGroupName or LogGroupIdentifier must be specified.")
	}
	return name, checkGroupName("logGroupName", name)
}

// checkTags validates tags as the model does: 1-50 of them, keys of 1-128 characters of
// letters, digits, spaces and _.:/=+-@, values of at most 256 characters.
func checkTags(tags map[string]string) error {
	for k, v := range tags {
		if err := checkTagKey(k); err != nil {
			return err
		}
		if utf8.RuneCountInString(v) > 256 {
			return validation("tags", v, "have length less than or equal to 256")
		}
	}
	return nil
}

func checkTagKey(k string) error {
	if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagKeyPattern.MatchString(k) {
		return validation("tags", k, `satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$ and have length between 1 and 128`)
	}
	return nil
}
