"""The wire names shared by the cards and the code that routes their submits.

Every ``Action.Submit`` carries ``data["action"]`` set to one of the ``*`` action names below; inputs arrive in the
same submit payload under their input ids. Import these instead of repeating string literals, so a renamed action
cannot silently stop routing.
"""

# data["action"] values.
GET_LINK = "getLink"
HELP = "help"
REMIND_ME = "remindMe"
CHOOSE_MEETING = "chooseMeeting"  # data["meetingRef"]: the join URL or Bookings appointment id; data["choice"]
MEETING_REF = "meetingRef"  # the pasted reference is the input INPUT_MEETING_REF
NEW_MEETING = "newMeeting"
CANCEL = "cancel"
CLIENT_DETAILS = "clientDetails"
SKIP = "skip"
TEXT_LINK = "textLink"  # data: DATA_MEETING_ID, DATA_PHONE (what it acts on)
CONFIRM_TEXT = "confirmText"
CANCEL_TEXT = "cancelText"
TEXT_REMINDER = "textReminder"  # data: DATA_MEETING_ID, DATA_PHONE, DATA_START
CONFIRM_REMINDER = "confirmReminder"
SUBMIT_TASK = "submitTask"
CREATE_MEETING = "createMeeting"
RETRY = "retry"
INSERT_LINK = "insertLink"  # messaging extension: put the compose card (DATA_* keys below) into the compose box
EMAIL_LINK = "emailLink"  # data: what the email says (DATA_LINK, DATA_EMAIL, DATA_LANGUAGE, DATA_CARD, ...)
CONFIRM_EMAIL = "confirmEmail"  # the same data
CANCEL_EMAIL = "cancelEmail"

ALL_ACTIONS: frozenset[str] = frozenset(
    {
        GET_LINK,
        HELP,
        REMIND_ME,
        CHOOSE_MEETING,
        MEETING_REF,
        NEW_MEETING,
        CANCEL,
        CLIENT_DETAILS,
        SKIP,
        TEXT_LINK,
        CONFIRM_TEXT,
        CANCEL_TEXT,
        TEXT_REMINDER,
        CONFIRM_REMINDER,
        SUBMIT_TASK,
        CREATE_MEETING,
        RETRY,
        INSERT_LINK,
        EMAIL_LINK,
        CONFIRM_EMAIL,
        CANCEL_EMAIL,
    }
)

# Input ids (the keys of the submitted values).
INPUT_MEETING_REF = "meetingRef"
INPUT_CLIENT_NAME = "clientName"
INPUT_CLIENT_EMAIL = "clientEmail"
INPUT_CLIENT_PHONE = "clientPhone"
INPUT_CLIENT_LANGUAGE = "clientLanguage"  # the language the client is emailed in (a shipped catalog name)
INPUT_SUBJECT = "subject"
INPUT_START_DATE = "startDate"
INPUT_START_TIME = "startTime"
INPUT_DURATION = "duration"
INPUT_JOIN_URL = "joinUrl"  # the copyable link on the result card; never submitted

# Keys a button's data carries besides "action": what the button acts on, so an older card acts on its own meeting.
DATA_CHOICE = "choice"  # the chosen meeting's key among those offered
DATA_MEETING_ID = "meetingId"  # the Graph onlineMeeting id
DATA_PHONE = "phone"  # E.164
DATA_START = "start"  # ISO 8601, the meeting's start (the reminder is offered only > 15 minutes before it)
DATA_LINK = "link"  # the client join link ("joinUrl" is the copy box's input id, which must not overwrite it)
DATA_SUBJECT = "subject"
DATA_END = "end"  # ISO 8601, the meeting's end
DATA_CLIENT_NAME = "clientName"
DATA_EMAIL = "email"  # the client's address, as validated on the form
DATA_LANGUAGE = "language"  # the catalog the email is written in
DATA_CARD = "card"  # the result card's own id: one email per card and recipient
DATA_TIME_ZONE = "timeZone"  # the zone the email names the appointment's time in

# Keys of the ``errors`` mappings the form cards accept (ClientDetails field names, plus the meeting).
FIELD_NAME = "name"
FIELD_EMAIL = "email"
FIELD_PHONE = "phone"
FIELD_MEETING = "meeting"
