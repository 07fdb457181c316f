"""People's words for the codes stored in volunteer records."""
from flask_babel import lazy_gettext as _l

SKILLS = {
    "heavy_machinery": _l("Heavy machinery"),
    "nursing": _l("Nursing / care"),
    "carpentry": _l("Carpentry"),
    "electrician": _l("Electrician"),
    "chainsaw": _l("Chainsaw"),
    "driving": _l("Driving"),
    "languages": _l("Foreign languages"),
    "sign_language": _l("Sign language"),
    "first_aid": _l("First aid"),
    "counselling": _l("Listening / counselling"),
}
VEHICLES = {"none": _l("No vehicle"), "car": _l("Car"), "light_truck": _l("Light truck")}
INSURANCE = {
    "home": _l("Enrolled at my home council"),
    "centre": _l("Enrolled at this centre"),
    "none": _l("Not enrolled: I will enrol at the centre"),
}
HEALTH_QUESTIONS = {
    "feeling_well": _l("I feel well today."),
    "no_fever": _l("I have no fever."),
    "slept_enough": _l("I slept enough last night."),
    "ate_breakfast": _l("I have eaten and have water with me."),
}
METHODS = {"scan": _l("Scanner"), "camera": _l("Camera"), "search": _l("Search"),
           "self": _l("Self check-in"), "group": _l("Group")}


def label(table: dict, key: str) -> str:
    """Return the label of `key`, or the key itself for values configured later."""
    return str(table.get(key, key))
