package cruddur

import "time"

// The week-2 mock data: fixed activities, messages and groups, with times relative to now.

// The one user there is, as Cruddur's week 2 has it: no authentication.
const (
	userDisplayName = "Andrew Brown"
	userHandle      = "andrewbrown"
)

// activity is a post. Fields are in alphabetical order: Cruddur's original JSON sorted its keys.
type activity struct {
	CreatedAt           stamp      `json:"created_at"`
	DisplayName         string     `json:"display_name,omitempty"`
	ExpiresAt           *stamp     `json:"expires_at,omitempty"`
	Handle              string     `json:"handle"`
	LikesCount          int        `json:"likes_count"`
	Message             string     `json:"message"`
	Replies             []activity `json:"replies"`
	RepliesCount        int        `json:"replies_count"`
	ReplyToActivityUUID string     `json:"reply_to_activity_uuid,omitempty"`
	RepostsCount        int        `json:"reposts_count"`
	UUID                string     `json:"uuid"`
}

func homeActivities(now time.Time) []activity {
	return []activity{
		{UUID: "68f126b0-1ceb-4a33-88be-d90fa7109eee", Handle: "Andrew Brown", Message: "Cloud is very fun!",
			CreatedAt: at(now, -48*time.Hour), ExpiresAt: until(now, 5*24*time.Hour), LikesCount: 5, RepliesCount: 1,
			Replies: []activity{{UUID: "26e12864-1c26-5c3a-9658-97a10f8fea67", ReplyToActivityUUID: "68f126b0-1ceb-4a33-88be-d90fa7109eee",
				Handle: "Worf", Message: "This post has no honor!", CreatedAt: at(now, -48*time.Hour), Replies: []activity{}}}},
		{UUID: "66e12864-8c26-4c3a-9658-95a10f8fea67", Handle: "Worf", Message: "I am out of prune juice",
			CreatedAt: at(now, -7*24*time.Hour), ExpiresAt: until(now, 9*24*time.Hour), Replies: []activity{}},
		{UUID: "248959df-3079-4947-b847-9e0892d1bab4", Handle: "Garek", Message: "My dear doctor, I am just simple tailor",
			CreatedAt: at(now, -time.Hour), ExpiresAt: until(now, 12*time.Hour), Replies: []activity{}},
	}
}

func notificationActivities(now time.Time) []activity {
	return []activity{{UUID: "68f126b0-1ceb-4a33-88be-d90fa7109eee", Handle: "coco", Message: "I am white unicorn",
		CreatedAt: at(now, -48*time.Hour), ExpiresAt: until(now, 5*24*time.Hour), LikesCount: 5, RepliesCount: 1,
		Replies: []activity{{UUID: "26e12864-1c26-5c3a-9658-97a10f8fea67", ReplyToActivityUUID: "68f126b0-1ceb-4a33-88be-d90fa7109eee",
			Handle: "worf", Message: "this post has no honor!", CreatedAt: at(now, -48*time.Hour), Replies: []activity{}}}}}
}

func userActivities(now time.Time) []activity {
	return []activity{{UUID: "248959df-3079-4947-b847-9e0892d1bab4", Handle: "Andrew Brown", Message: "Cloud is fun!",
		CreatedAt: at(now, -24*time.Hour), ExpiresAt: until(now, 31*24*time.Hour), Replies: []activity{}}}
}

func searchActivities(now time.Time) []activity {
	return []activity{{UUID: "248959df-3079-4947-b847-9e0892d1bab4", Handle: "Andrew Brown", Message: "Cloud is fun!",
		CreatedAt: at(now, 0), Replies: []activity{}}}
}

func showActivity(now time.Time) []activity {
	home := homeActivities(now)
	return home[:1]
}

// messageGroup is a conversation with another user.
type messageGroup struct {
	CreatedAt   stamp  `json:"created_at"`
	DisplayName string `json:"display_name"`
	Handle      string `json:"handle"`
	UUID        string `json:"uuid"`
}

func messageGroups(now time.Time) []messageGroup {
	return []messageGroup{
		{UUID: "24b95582-9e7b-4e0a-9ad1-639773ab7552", DisplayName: userDisplayName, Handle: userHandle, CreatedAt: at(now, -24*time.Hour)},
		{UUID: "417c360e-c4e6-4fce-873b-d2d71469b4ac", DisplayName: "Worf", Handle: "worf", CreatedAt: at(now, -48*time.Hour)},
	}
}

// message is one message of a conversation.
type message struct {
	CreatedAt   stamp  `json:"created_at"`
	DisplayName string `json:"display_name"`
	Handle      string `json:"handle"`
	Message     string `json:"message"`
	UUID        string `json:"uuid"`
}

func messages(now time.Time) []message {
	return []message{
		{UUID: "4e81c06a-db0f-4281-b4cc-98208537772a", DisplayName: userDisplayName, Handle: userHandle, Message: "Cloud is fun!", CreatedAt: at(now, -24*time.Hour)},
		{UUID: "66e12864-8c26-4c3a-9658-95a10f8fea67", DisplayName: userDisplayName, Handle: userHandle, Message: "This platform is great!", CreatedAt: at(now, -24*time.Hour)},
	}
}

// stamp is a time as Cruddur writes it: ISO 8601 with microseconds and the UTC offset.
type stamp time.Time

func (s stamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(s).UTC().Format("2006-01-02T15:04:05.000000-07:00") + `"`), nil
}

func at(now time.Time, offset time.Duration) stamp { return stamp(now.Add(offset)) }

func until(now time.Time, d time.Duration) *stamp { s := stamp(now.Add(d)); return &s }
