"""The wire names shared by the cards and the code that routes their submits.

Every ``Action.Submit`` carries ``data["action"]`` set to one of the ``*`` action names below; inputs arrive in the
same submit payload under their input ids. Import these instead of repeating string literals, so a renamed action
cannot silently stop routing.
"""

# data["action"] values.
GET_LINK = "getLink"
HELP = "help"
CHOOSE_MEETING = "chooseMeeting"  # data["meetingRef"] is the chosen meeting's join URL
MEETING_REF = "meetingRef"  # the pasted reference is the input INPUT_MEETING_REF
NEW_MEETING = "newMeeting"
CANCEL = "cancel"
CLIENT_DETAILS = "clientDetails"
SKIP = "skip"
TEXT_LINK = "textLink"
CONFIRM_TEXT = "confirmText"
CANCEL_TEXT = "cancelText"
SUBMIT_TASK = "submitTask"
CREATE_MEETING = "createMeeting"
RETRY = "retry"

ALL_ACTIONS: frozenset[str] = frozenset(
    {
        GET_LINK,
        HELP,
        CHOOSE_MEETING,
        MEETING_REF,
        NEW_MEETING,
        CANCEL,
        CLIENT_DETAILS,
        SKIP,
        TEXT_LINK,
        CONFIRM_TEXT,
        CANCEL_TEXT,
        SUBMIT_TASK,
        CREATE_MEETING,
        RETRY,
    }
)

# Input ids (the keys of the submitted values).
INPUT_MEETING_REF = "meetingRef"
INPUT_CLIENT_NAME = "clientName"
INPUT_CLIENT_EMAIL = "clientEmail"
INPUT_CLIENT_PHONE = "clientPhone"
INPUT_SUBJECT = "subject"
INPUT_START_DATE = "startDate"
INPUT_START_TIME = "startTime"
INPUT_DURATION = "duration"
INPUT_JOIN_URL = "joinUrl"  # the copyable link on the result card; never submitted

# Keys of the ``errors`` mappings the form cards accept (ClientDetails field names, plus the meeting).
FIELD_NAME = "name"
FIELD_EMAIL = "email"
FIELD_PHONE = "phone"
FIELD_MEETING = "meeting"
