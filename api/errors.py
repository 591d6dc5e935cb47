"""Every error a client can see, in one place: which exception becomes which HTTP status, and
what the JSON body says, in Ukrainian or (when Accept-Language prefers it) in English.

A body is always `{"code": "<stable code>", "detail": "<message>"}`, plus `parameter` when one
query parameter is at fault. Codes are for programs and never change; messages are for people.
The core raises domain errors (layers.errors) and knows nothing of HTTP; routers raise them too,
and never build an error response by hand.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import DataError, OperationalError
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    RateLimited,
)
from gis.mail import MailError
from layers.errors import FeatureNotFound, InvalidParameter, LayerError, UnknownCollection

log = logging.getLogger("hromada.api")

# Exception → HTTP status. Looked up along the exception's class hierarchy (most specific first).
STATUS: dict[type[Exception], int] = {
    UnknownCollection: 404,
    FeatureNotFound: 404,
    InvalidParameter: 400,
    LayerError: 400,
    InvalidInput: 400,
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    RateLimited: 429,
    PoolTimeout: 503,
    OperationalError: 503,
    MailError: 503,
}

# code → (Ukrainian, English). Placeholders are the error's params.
MESSAGES: dict[str, tuple[str, str]] = {
    "unknown_collection": (
        "Колекцію «{collection}» не знайдено. Перелік колекцій: /ogc/collections.",
        "Collection '{collection}' not found. The list of collections: /ogc/collections.",
    ),
    "feature_not_found": (
        "Об’єкт «{feature_id}» у колекції «{collection}» не знайдено.",
        "Feature '{feature_id}' not found in collection '{collection}'.",
    ),
    "unknown_parameter": (
        "Невідомий параметр запиту «{parameter}». Дозволені параметри: {allowed}.",
        "Unknown query parameter '{parameter}'. Allowed parameters: {allowed}.",
    ),
    "repeated_parameter": (
        "Параметр «{parameter}» вказано більше одного разу.",
        "Parameter '{parameter}' is given more than once.",
    ),
    "invalid_format": (
        "Непідтримуваний формат f={value}: підтримуються json і geojson.",
        "Unsupported format f={value}: json and geojson are supported.",
    ),
    "invalid_limit": (
        "Параметр limit має бути цілим числом від 1 до {max}; отримано «{value}».",
        "Parameter limit must be an integer from 1 to {max}; got '{value}'.",
    ),
    "invalid_bbox": (
        (
            "Параметр bbox має бути чотирма числами через кому: мінімальна довгота, мінімальна "
            "широта, максимальна довгота, максимальна широта (градуси WGS 84; шість чисел з "
            "висотами теж приймаються); отримано «{value}»."
        ),
        (
            "Parameter bbox must be four comma-separated numbers: min longitude, min latitude, "
            "max longitude, max latitude (WGS 84 degrees; six numbers with heights are accepted "
            "too); got '{value}'."
        ),
    ),
    "invalid_datetime": (
        (
            "Параметр datetime має бути моментом RFC 3339 (2026-03-01T10:00:00Z), датою "
            "(2026-03-01) або інтервалом «початок/кінець», де відкритий кінець — «..»; "
            "отримано «{value}»."
        ),
        (
            "Parameter datetime must be an RFC 3339 instant (2026-03-01T10:00:00Z), a date "
            "(2026-03-01) or an interval 'start/end' with '..' for an open end; got '{value}'."
        ),
    ),
    "no_temporal_property": (
        (
            "Колекція «{collection}» не має часової властивості, тож параметр datetime до неї "
            "не застосовний."
        ),
        (
            "Collection '{collection}' has no temporal property, so parameter datetime does not "
            "apply to it."
        ),
    ),
    "after_and_before": (
        "Параметри after і before не можна задавати разом: сторінка йде або вперед, або назад.",
        "Parameters after and before cannot be used together: a page goes forward or back.",
    ),
    "invalid_filter_integer": (
        (
            "Параметр {parameter} приймає ідентифікатори — цілі числа через кому; "
            "отримано «{value}»."
        ),
        "Parameter {parameter} takes ids — integers separated by commas; got '{value}'.",
    ),
    "invalid_filter_value": (
        "Параметр {parameter} не може мати значення «{value}». Можливі значення: {allowed}.",
        "Parameter {parameter} cannot be '{value}'. Possible values: {allowed}.",
    ),
    # vector tiles (tiles/, api/routers/tiles.py)
    "invalid_tile": (
        "Адреса плитки /{{z}}/{{x}}/{{y}}.mvt: {parameter} має бути цілим числом (z від 0 до "
        "{max_zoom}); отримано «{value}».",
        "Tile address /{{z}}/{{x}}/{{y}}.mvt: {parameter} must be an integer (z from 0 to "
        "{max_zoom}); got '{value}'.",
    ),
    "zoom_out_of_range": (
        "Масштаб плитки z має бути від 0 до {max_zoom}; отримано {value}.",
        "A tile's zoom z must be from 0 to {max_zoom}; got {value}.",
    ),
    "tile_out_of_range": (
        "На масштабі {z} {parameter} плитки має бути від 0 до {max}; отримано {value}.",
        "At zoom {z} a tile's {parameter} must be from 0 to {max}; got {value}.",
    ),
    "invalid_after": (
        (
            "Параметр {parameter} має бути курсором з посилання next або prev (ідентифікатором "
            "об’єкта, а для звернень — «час~ідентифікатор»); отримано «{value}»."
        ),
        (
            "Parameter {parameter} must be the cursor of a next or prev link (a feature id, "
            "or 'time~id' for appeals); got '{value}'."
        ),
    ),
    "invalid_request": (
        "Некоректний запит: {errors}.",
        "Invalid request: {errors}.",
    ),
    # what is wrong with one field, as the validation of a route's signature says it
    "invalid_field_value": (
        "Некоректний запит: поле «{parameter}» {reason} (отримано «{value}»).",
        "Invalid request: field '{parameter}' {reason} (got '{value}').",
    ),
    "reason_integer": ("має бути цілим числом", "must be an integer"),
    "reason_number": ("має бути числом", "must be a number"),
    "reason_boolean": ("має бути true або false", "must be true or false"),
    "reason_date": ("має бути датою РРРР-ММ-ДД", "must be a date YYYY-MM-DD"),
    "reason_datetime": ("має бути моментом часу RFC 3339", "must be an RFC 3339 date-time"),
    "reason_min": ("має бути не менше {limit}", "must be at least {limit}"),
    "reason_max": ("має бути не більше {limit}", "must be at most {limit}"),
    "reason_too_short": (
        "закоротке: щонайменше {limit} символів",
        "is too short: at least {limit} characters",
    ),
    "reason_too_long": (
        "задовге: щонайбільше {limit} символів",
        "is too long: at most {limit} characters",
    ),
    "reason_required": ("обов’язкове", "is required"),
    "reason_choice": ("має бути одним із: {limit}", "must be one of: {limit}"),
    "reason_string": ("має бути рядком", "must be a string"),
    "reason_object": ("має бути об’єктом JSON", "must be a JSON object"),
    "reason_list": ("має бути списком", "must be a list"),
    "reason_json": ("некоректний JSON", "is not valid JSON"),
    "reason_other": ("має некоректне значення", "has an invalid value"),
    "database_unavailable": (
        "База даних недоступна. Спробуйте пізніше.",
        "The database is unavailable. Please try again later.",
    ),
    "postgis_missing": (
        "У базі даних немає PostGIS: виконайте «hromada migrate».",
        "PostGIS is not installed in the database: run 'hromada migrate'.",
    ),
    "not_authenticated": (
        "Потрібно увійти: надішліть токен (Authorization: Bearer …) або увійдіть на порталі.",
        "Sign-in required: send a token (Authorization: Bearer …) or sign in on the portal.",
    ),
    "forbidden": (
        "Недостатньо прав: ця дія недоступна для вашої ролі або поза вашою територією.",
        "Not allowed: this action is not available to your role or outside your scope.",
    ),
    "rate_limited": (
        "Забагато спроб. Повторіть через {retry_after} с.",
        "Too many attempts. Try again in {retry_after} s.",
    ),
    "payload_too_large": (
        "Запит завеликий: найбільший дозволений розмір — {limit} байт.",
        "The request is too large: at most {limit} bytes are accepted.",
    ),
    # --- accounts (issue 3): add new codes below this line ---
    # sign-in, sessions, registration (gis/accounts.py, api/routers/auth.py, me.py)
    "invalid_credentials": (
        "Неправильна адреса e-mail або пароль.",
        "Wrong e-mail address or password.",
    ),
    "account_locked": (
        "Забагато невдалих спроб входу: обліковий запис тимчасово заблоковано. Повторіть "
        "через {retry_after} с або відновіть пароль.",
        "Too many failed sign-in attempts: the account is locked for now. Try again in "
        "{retry_after} s or reset the password.",
    ),
    "email_not_confirmed": (
        "Адресу e-mail ще не підтверджено: відкрийте посилання з листа, надісланого під час "
        "реєстрації (або відновіть пароль — лист прийде знову).",
        "The e-mail address is not confirmed yet: open the link in the mail sent when you "
        "signed up (or reset the password to get a new mail).",
    ),
    "account_inactive": (
        "Обліковий запис вимкнено. Зверніться до адміністратора.",
        "The account is deactivated. Please contact the administrator.",
    ),
    "demo_account_disabled": (
        "Демонстраційні облікові записи працюють лише в демонстраційному режимі.",
        "Demo accounts work only in demo mode.",
    ),
    "csrf_failed": (
        "Запит відхилено: бракує CSRF-токена (заголовок X-CSRF-Token) або він не збігається "
        "з токеном сеансу. Оновіть сторінку й спробуйте ще раз.",
        "Request refused: the CSRF token (header X-CSRF-Token) is missing or does not match "
        "the session's. Reload the page and try again.",
    ),
    "weak_password": (
        "Пароль надто простий: щонайменше {min} символів, не збігається з адресою e-mail і "
        "не складається з одного-двох повторюваних символів.",
        "The password is too weak: at least {min} characters, not the e-mail address, and not "
        "one or two characters repeated.",
    ),
    "password_too_long": (
        "Пароль задовгий: щонайбільше {max} символів.",
        "The password is too long: at most {max} characters.",
    ),
    "invalid_token": (
        "Посилання недійсне: його вже використано або строк його дії минув. Попросіть нове.",
        "The link is not valid: it was used already or has expired. Ask for a new one.",
    ),
    "wrong_password": (
        "Неправильний пароль.",
        "Wrong password.",
    ),
    "invalid_session_kind": (
        "Невідомий вид сеансу «{kind}»: можливі token і cookie.",
        "Unknown session kind '{kind}': token and cookie are possible.",
    ),
    "invalid_token_purpose": (
        "Невідоме призначення токена «{purpose}».",
        "Unknown token purpose '{purpose}'.",
    ),
    "mail_unavailable": (
        "Не вдалося надіслати лист. Спробуйте пізніше.",
        "The mail could not be sent. Please try again later.",
    ),
    # scopes, staff and administration (gis/scope.py, api/routers/staff.py, admin.py)
    "appeal_not_found": (
        "Звернення № {number} не знайдено.",
        "Appeal No. {number} not found.",
    ),
    "appeal_wrong_state": (
        "Звернення № {number} має статус «{state}»: взяти в роботу можна лише звернення зі "
        "статусом {allowed}.",
        "Appeal No. {number} has status '{state}': only an appeal with status {allowed} can "
        "be taken into work.",
    ),
    # the lifecycle (gis/lifecycle.py, api/routers/lifecycle.py)
    "appeal_transition_refused": (
        "Звернення № {number} має статус «{state_uk}»: дія «{action}» можлива лише для "
        "звернень зі статусом {allowed_uk}.",
        "Appeal No. {number} has status '{state_en}': the action '{action}' is possible only "
        "for an appeal with status {allowed_en}.",
    ),
    "appeal_already_supported": (
        "Ви вже підтримали звернення № {number}.",
        "You have already supported appeal No. {number}.",
    ),
    "geocode_query_too_short": (
        "Уведіть щонайменше {min} літери назви вулиці або адреси.",
        "Type at least {min} letters of a street name or an address.",
    ),
    "geocode_query_too_long": (
        "Запит задовгий: щонайбільше {max} символів.",
        "The query is too long: {max} characters at most.",
    ),
    "field_required": (
        "Заповніть поле «{parameter}».",
        "Field '{parameter}' is required.",
    ),
    "invalid_value": (
        "Неприпустиме значення поля «{parameter}»: «{value}».",
        "Invalid value of field '{parameter}': '{value}'.",
    ),
    "invalid_request_body": (
        "Тіло запиту має бути JSON-об’єктом.",
        "The request body must be a JSON object.",
    ),
    "executor_not_subordinate": (
        "Виконавець «{value}» не є підпорядкованою організацією виконавця звернення: "
        "доручити можна лише своїй підпорядкованій організації.",
        "Executor '{value}' is not a sub-organisation of the appeal's executor: an appeal can "
        "be delegated only to one's own sub-organisation.",
    ),
    "resolution_deadline_too_late": (
        "Строк доручення не може бути пізнішим за строк звернення ({limit}).",
        "A resolution's deadline cannot be later than the appeal's ({limit}).",
    ),
    "extension_over_limit": (
        "Строк розгляду можна продовжити щонайбільше до {limit}: загалом не більше {days} днів "
        "від реєстрації (ст. 20 Закону «Про звернення громадян»).",
        "The term can be extended to {limit} at most: {days} days in total from registration "
        "(Art. 20 of the Law on Citizens' Appeals).",
    ),
    "extension_not_later": (
        "Новий строк має бути пізнішим за чинний ({current}).",
        "The new term must be later than the current one ({current}).",
    ),
    "invalid_status": (
        "Невідомий статус «{value}». Можливі статуси: {allowed}.",
        "Unknown status '{value}'. Possible statuses: {allowed}.",
    ),
    "invalid_cursor": (
        "Параметр after має бути значенням next попередньої сторінки; отримано «{value}».",
        "Parameter after must be the `next` of the previous page; got '{value}'.",
    ),
    "invalid_role": (
        "Невідома роль «{value}». Можливі ролі: {allowed}.",
        "Unknown role '{value}'. Possible roles: {allowed}.",
    ),
    "invalid_email": (
        "Некоректна адреса електронної пошти: «{value}».",
        "Invalid e-mail address: '{value}'.",
    ),
    "password_too_short": (
        "Пароль закороткий: щонайменше {min} символів.",
        "The password is too short: at least {min} characters.",
    ),
    "full_name_required": ("Вкажіть ім’я користувача.", "The user's full name is required."),
    "email_taken": (
        "Користувач з адресою {email} уже існує.",
        "A user with the address {email} already exists.",
    ),
    "unknown_executor": (
        "Виконавця «{value}» не знайдено.",
        "Executor '{value}' not found.",
    ),
    "executor_required": (
        "Для ролі «{role}» потрібно вказати організацію-виконавця (executor_id або executor_code).",
        "Role '{role}' must be bound to an executor organisation (executor_id or executor_code).",
    ),
    "ward_required": (
        "Для депутата потрібно вказати номер виборчого округу (ward_number).",
        "A deputy must be bound to an electoral ward (ward_number).",
    ),
    "unknown_ward": (
        "Виборчого округу № {value} немає.",
        "There is no electoral ward No. {value}.",
    ),
    "user_not_found": ("Користувача {id} не знайдено.", "User {id} not found."),
    "ward_not_found": (
        "Виборчий округ № {number} не знайдено.",
        "Electoral ward No. {number} not found.",
    ),
    "cannot_deactivate_self": (
        "Адміністратор не може вимкнути власний обліковий запис.",
        "An administrator cannot deactivate their own account.",
    ),
    "invalid_deadline_days": (
        "Строк розгляду має бути від 1 до 45 днів (ст. 20 Закону «Про звернення громадян»); "
        "отримано {value}.",
        "The deadline must be from 1 to 45 days (Art. 20 of the Law on Citizens' Appeals); "
        "got {value}.",
    ),
    "category_not_found": ("Категорію {id} не знайдено.", "Category {id} not found."),
    "unknown_category": ("Категорії {value} немає.", "There is no category {value}."),
    "rule_one_area": (
        "Правило маршрутизації може мати щонайбільше одну територію: район, округ або "
        "територію виконавця.",
        "A routing rule may have at most one area: a district, a ward or an executor's territory.",
    ),
    "routing_rule_not_found": (
        "Правило маршрутизації {id} не знайдено.",
        "Routing rule {id} not found.",
    ),
    "layer_not_found": ("Шар «{name}» не знайдено.", "Layer '{name}' not found."),
    "layer_is_core": (
        "Шар «{name}» — базовий; змінювати можна лише тематичні шари.",
        "Layer '{name}' is a core layer; only thematic layers can be changed.",
    ),
    "invalid_update_regime": (
        "Невідомий режим оновлення «{value}». Можливі: {allowed}.",
        "Unknown update regime '{value}'. Possible: {allowed}.",
    ),
    "title_required": ("Назва шару не може бути порожньою.", "A layer's title cannot be empty."),
    # routing by polygon (gis/routing.py, api/routers/routing.py)
    "coordinate_missing": (
        "Не вказано координату «{parameter}»: потрібні обидві, lon (довгота) і lat (широта), "
        "у градусах WGS 84, наприклад lon=30.5234&lat=50.4501.",
        "Coordinate '{parameter}' is missing: both lon (longitude) and lat (latitude) are "
        "needed, in WGS 84 degrees, e.g. lon=30.5234&lat=50.4501.",
    ),
    "invalid_coordinate": (
        "Координата «{parameter}» має бути числом у градусах WGS 84 (довгота від -180 до 180, "
        "широта від -90 до 90), наприклад lon=30.5234&lat=50.4501; отримано «{value}».",
        "Coordinate '{parameter}' must be a number in WGS 84 degrees (longitude -180 to 180, "
        "latitude -90 to 90), e.g. lon=30.5234&lat=50.4501; got '{value}'.",
    ),
    "category_required": (
        "Вкажіть категорію звернення (параметр category: її id або код); перелік категорій — "
        "/api/v1/categories.",
        "Give the appeal's category (parameter category: its id or code); the list of "
        "categories is /api/v1/categories.",
    ),
    "outside_service_area": (
        "Точка ({lon}, {lat}) лежить поза межами громади, яку обслуговує ця система. "
        "Перевірте, чи не переплутано довготу й широту, або вкажіть місце в межах громади; "
        "звернення без прив’язки до місця можна подати без координат.",
        "The point ({lon}, {lat}) lies outside the community this system serves. Check that "
        "longitude and latitude are not swapped, or choose a place within the community; an "
        "appeal with no place on the map can be filed without coordinates.",
    ),
    # appeal intake (gis/intake.py, gis/photos.py, api/routers/appeals.py)
    "text_required": (
        "Опишіть проблему: текст звернення не може бути порожнім.",
        "Describe the problem: the appeal's text cannot be empty.",
    ),
    "text_too_long": (
        "Текст звернення задовгий: {length} символів, а можна щонайбільше {max}. Скоротіть "
        "його або опишіть лише одну проблему (одне звернення — одна проблема).",
        "The appeal's text is too long: {length} characters, at most {max} are accepted. "
        "Shorten it or describe only one problem (one appeal, one problem).",
    ),
    "text_obscene": (
        "Звернення містить нецензурну лексику, тож його не може бути прийнято. Приберіть "
        "лайливі слова й надішліть його знову.",
        "The appeal contains obscene language and cannot be accepted. Remove the swear words "
        "and send it again.",
    ),
    "author_name_required": (
        "Вкажіть прізвище, ім’я та по батькові автора: анонімні звернення не розглядаються "
        "(ст. 8 Закону «Про звернення громадян»).",
        "Give the author's full name: anonymous appeals are not considered (Art. 8 of the Law "
        "on Citizens' Appeals).",
    ),
    "author_name_latin": (
        "Ім’я автора має бути написане кирилицею (українськими літерами), а не латиницею, "
        "наприклад «Петренко Іван Миколайович».",
        "The author's name must be written in Cyrillic (Ukrainian letters), not in Latin "
        "script, e.g. «Петренко Іван Миколайович».",
    ),
    "author_name_invalid": (
        "Ім’я автора може містити лише літери кирилиці, апостроф, дефіс і пробіли, наприклад "
        "«Ковальчук-Дем’яненко Олена».",
        "The author's name may contain only Cyrillic letters, apostrophes, hyphens and spaces, "
        "e.g. «Ковальчук-Дем’яненко Олена».",
    ),
    "author_address_required": (
        "Вкажіть поштову адресу автора (куди надіслати відповідь): звернення без адреси "
        "вважається анонімним і не розглядається (ст. 8 Закону «Про звернення громадян»).",
        "Give the author's postal address (where the answer is sent): an appeal without an "
        "address is anonymous and is not considered (Art. 8 of the Law on Citizens' Appeals).",
    ),
    "author_contact_required": (
        "Вкажіть, як з автором зв’язатися: адресу електронної пошти або номер телефону.",
        "Give a way to reach the author: an e-mail address or a phone number.",
    ),
    "invalid_phone": (
        "Некоректний номер телефону «{value}»: вкажіть 10–15 цифр, наприклад +380 44 123 45 67.",
        "Invalid phone number '{value}': give 10 to 15 digits, e.g. +380 44 123 45 67.",
    ),
    "field_too_long": (
        "Поле «{parameter}» задовге: щонайбільше {max} символів.",
        "Field '{parameter}' is too long: at most {max} characters.",
    ),
    "invalid_field": (
        "Поле «{parameter}» має неправильний тип: очікується текст (або об’єкт для author і "
        "location).",
        "Field '{parameter}' has the wrong type: text is expected (an object for author and "
        "location).",
    ),
    "invalid_boolean": (
        "Поле «{parameter}» має бути true або false; отримано «{value}».",
        "Field '{parameter}' must be true or false; got '{value}'.",
    ),
    "invalid_json": (
        "Тіло запиту (або поле «{parameter}») має бути JSON-об’єктом з полями звернення.",
        "The request body (or field '{parameter}') must be a JSON object with the appeal's fields.",
    ),
    "unsupported_content_type": (
        "Непідтримуваний тип вмісту «{value}»: надсилайте application/json або "
        "multipart/form-data (з фотографіями).",
        "Unsupported content type '{value}': send application/json or multipart/form-data "
        "(with photos).",
    ),
    "category_not_subkind": (
        "«{name}» — це вид звернення; оберіть його підвид: {subkinds}.",
        "'{name}' is a kind of appeal; choose one of its sub-kinds: {subkinds}.",
    ),
    "unknown_channel": (
        "Невідомий канал надходження «{value}». Можливі: {allowed}.",
        "Unknown channel '{value}'. Possible: {allowed}.",
    ),
    "channel_not_allowed": (
        "Громадяни подають звернення через сайт (channel=site); канал «{value}» може вказати "
        "лише оператор, який реєструє звернення від імені громадянина.",
        "Citizens file appeals through the site (channel=site); channel '{value}' may be given "
        "only by an operator registering an appeal on a citizen's behalf.",
    ),
    "too_many_photos": (
        "Забагато фотографій: {count}, а можна щонайбільше {max}.",
        "Too many photos: {count}, at most {max} are accepted.",
    ),
    "photo_not_image": (
        "Файл «{name}» не є зображенням JPEG, PNG або WebP (або пошкоджений). Додайте фото в "
        "одному з цих форматів.",
        "File '{name}' is not a JPEG, PNG or WebP image (or it is damaged). Attach a photo in "
        "one of these formats.",
    ),
    "photo_too_large": (
        "Файл «{name}» завеликий: щонайбільше {max_mb} МБ на одне фото. Зменште його розмір.",
        "File '{name}' is too large: at most {max_mb} MB per photo. Make it smaller.",
    ),
    "photo_too_many_pixels": (
        "Зображення «{name}» завелике ({width}×{height} пікселів). Зменште його роздільність.",
        "Image '{name}' is too large ({width}×{height} pixels). Reduce its resolution.",
    ),
    "photo_not_found": ("Фото не знайдено.", "Photo not found."),
    "photo_location_outside": (
        "Місце не вказано, а GPS-позиція з першого фото ({lon}, {lat}) лежить поза межами "
        "громади. Позначте місце проблеми на мапі, вкажіть адресу або no_location: true.",
        "No place was given, and the GPS position of the first photo ({lon}, {lat}) lies "
        "outside the community. Mark the problem's place on the map, give an address, or "
        "no_location: true.",
    ),
    "location_required": (
        "Вкажіть місце проблеми: точку на мапі (location.lon, location.lat), адресу "
        "(location.street і location.house) або позначте, що звернення не прив’язане до місця "
        "(location.no_location: true).",
        "Give the problem's place: a point on the map (location.lon, location.lat), an address "
        "(location.street and location.house), or mark that the appeal has no place "
        "(location.no_location: true).",
    ),
    "location_ambiguous": (
        "Місце вказано кількома способами ({given}): залиште щось одне — точку, адресу або "
        "no_location.",
        "The place is given in several ways ({given}): keep one — a point, an address or "
        "no_location.",
    ),
    "address_incomplete": (
        "Для адреси потрібні і вулиця (location.street), і номер будинку (location.house).",
        "An address needs both a street (location.street) and a house number (location.house).",
    ),
    "unknown_street": (
        "Вулицю «{street}» не знайдено в реєстрі вулиць. Перевірте назву (наприклад, «вулиця "
        "Хрещатик») або позначте місце на мапі.",
        "Street '{street}' is not in the street register. Check the name (e.g. «вулиця "
        "Хрещатик») or mark the place on the map.",
    ),
    "address_not_found": (
        "Будинок {house} на «{street}» не знайдено серед відомих адрес. Перевірте номер або "
        "позначте місце на мапі (location.lon, location.lat).",
        "House {house} on «{street}» is not among the known addresses. Check the number or "
        "mark the place on the map (location.lon, location.lat).",
    ),
    "invalid_idempotency_key": (
        "Заголовок Idempotency-Key має бути від 1 до 128 видимих символів ASCII (наприклад, UUID).",
        "The Idempotency-Key header must be 1 to 128 visible ASCII characters (e.g. a UUID).",
    ),
    "idempotency_key_reused": (
        "Цей Idempotency-Key уже використано для іншого звернення. Для нового звернення "
        "створіть новий ключ; повтор має надсилати те саме звернення без змін.",
        "This Idempotency-Key was already used for a different appeal. Make a new key for a "
        "new appeal; a retry must send the very same appeal unchanged.",
    ),
    # the public feed and its statistics (gis/public_feed.py, api/routers/public_feed.py)
    "invalid_type": (
        "Невідомий тип звернення «{value}»: можливі complaint (скарги) і thanks (подяки).",
        "Unknown appeal type '{value}': complaint (complaints) and thanks are possible.",
    ),
    "invalid_period": (
        "Невідомий період «{value}». Можливі: {allowed} (custom — з date_from і/або date_to).",
        "Unknown period '{value}'. Possible: {allowed} (custom with date_from and/or date_to).",
    ),
    "invalid_date": (
        "Параметр {parameter} має бути датою у форматі РРРР-ММ-ДД, наприклад 2026-03-01; "
        "отримано «{value}».",
        "Parameter {parameter} must be a date as YYYY-MM-DD, e.g. 2026-03-01; got '{value}'.",
    ),
    "invalid_date_range": (
        "Початкова дата {date_from} пізніша за кінцеву {date_to}.",
        "The start date {date_from} is later than the end date {date_to}.",
    ),
    "dates_need_custom_period": (
        "Дати date_from і date_to задають власний період: вкажіть period=custom або не "
        "вказуйте period (отримано period={value}).",
        "Dates date_from and date_to make a custom period: give period=custom or no period "
        "(got period={value}).",
    ),
    "custom_period_needs_dates": (
        "Для period=custom вкажіть date_from і/або date_to (дати РРРР-ММ-ДД).",
        "For period=custom give date_from and/or date_to (dates as YYYY-MM-DD).",
    ),
    "unknown_district": (
        "Район «{value}» не знайдено: вкажіть ідентифікатор району або його код КАТОТТГ (UA80…).",
        "District '{value}' not found: give a district id or its KATOTTH code (UA80…).",
    ),
    "invalid_top": (
        "Параметр top має бути цілим числом від 1 до {max}; отримано «{value}».",
        "Parameter top must be an integer from 1 to {max}; got '{value}'.",
    ),
    "too_many_values": (
        "Забагато значень у параметрі {parameter}: щонайбільше {max}.",
        "Too many values in parameter {parameter}: at most {max}.",
    ),
    "empty_parameter": (
        "Параметр {parameter} вказано без значення.",
        "Parameter {parameter} is given without a value.",
    ),
    # the edge of the service (gis/values.py, api/guard.py)
    "invalid_characters": (
        "Поле «{parameter}» містить недопустимий символ {character} (керівний символ, нульовий "
        "байт, непарний сурогат або знак зміни напрямку тексту). Приберіть його й надішліть ще раз.",
        "Field '{parameter}' holds a character that is not allowed, {character} (a control "
        "character, a NUL byte, an unpaired surrogate or a text direction override). Remove it "
        "and send again.",
    ),
    "invalid_integer": (
        "Параметр {parameter} має бути цілим числом від {min} до {max}; отримано «{value}».",
        "Parameter {parameter} must be an integer from {min} to {max}; got '{value}'.",
    ),
    "value_out_of_range": (
        "Значення поза допустимими межами (число завелике чи замале або дата поза межами). "
        "Перевірте числа й дати в запиті.",
        "A value is out of range (a number too large or too small, or a date out of bounds). "
        "Check the numbers and dates in the request.",
    ),
    "too_many_fields": (
        "Забагато полів у формі: щонайбільше {max}.",
        "Too many fields in the form: at most {max}.",
    ),
    "form_part_too_large": (
        "Поле форми «{parameter}» завелике: щонайбільше {max_kb} КБ.",
        "Form field '{parameter}' is too large: at most {max_kb} KB.",
    ),
    "invalid_form": (
        "Форму не вдалося прочитати: надішліть її як multipart/form-data або "
        "application/x-www-form-urlencoded, кожне поле з назвою.",
        "The form could not be read: send it as multipart/form-data or "
        "application/x-www-form-urlencoded, each field with its name.",
    ),
    "internal_error": (
        "Внутрішня помилка сервісу. Ми вже знаємо про неї; якщо вона повториться, назвіть "
        "у зверненні до підтримки номер запиту {request_id}.",
        "An internal error of the service. It has been logged; if it happens again, quote "
        "request id {request_id} to support.",
    ),
    "not_found": ("Сторінку не знайдено.", "Not found."),
    "method_not_allowed": ("Метод не дозволений.", "Method not allowed."),
    "http_error": ("Помилка запиту.", "Request error."),
}


def preferred_language(accept_language: str | None) -> str:
    """'en' when the client's Accept-Language ranks English above Ukrainian, else 'uk'.
    Russian counts as Ukrainian here: a Kyiv browser set to Russian (which usually lists
    English after it) belongs to a reader of Ukrainian, not of English.

    >>> preferred_language("en-US,en;q=0.9,uk;q=0.8"), preferred_language("uk,en;q=0.5")
    ('en', 'uk')
    >>> preferred_language("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7")
    'uk'
    """
    reads = {"uk": "uk", "ru": "uk", "en": "en"}
    best = {"uk": -1.0, "en": -1.0}
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, q_part = item.strip().partition(";")
        language = reads.get(tag.strip().lower().split("-")[0])
        if language is None:
            continue
        try:
            q = float(q_part.strip()[2:]) if q_part.strip().startswith("q=") else 1.0
        except ValueError:
            q = 0.0
        # Equal weights: the one listed first wins.
        best[language] = max(best[language], q - position * 1e-6)
    return "en" if best["en"] > 0 and best["en"] > best["uk"] else "uk"


def message(code: str, lang: str, **params: object) -> str:
    uk, en = MESSAGES.get(code, MESSAGES["http_error"])
    try:
        return (en if lang == "en" else uk).format(**params)
    except (KeyError, IndexError):
        return en if lang == "en" else uk


def error_response(
    request: Request, status: int, code: str, *, extra: dict | None = None, **params: object
) -> JSONResponse:
    """The one place error bodies are made (routers that must answer an error themselves, such
    as /healthz, call this too)."""
    lang = preferred_language(request.headers.get("accept-language"))
    body: dict[str, object] = {"code": code, "detail": message(code, lang, **params)}
    if "parameter" in params:
        body["parameter"] = params["parameter"]
    body.update(extra or {})
    return JSONResponse(
        body, status_code=status, headers={"Content-Language": lang, "Vary": "Accept-Language"}
    )


def status_of(exc: Exception) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    status = status_of(exc)
    if isinstance(exc, DomainError):
        response = error_response(request, status, exc.code, **exc.params)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    log.warning("database unavailable: %s", exc)
    return error_response(request, status, "database_unavailable")


# pydantic's error types → (reason code, the ctx key holding its limit)
_REASONS: dict[str, tuple[str, str | None]] = {
    "int_parsing": ("reason_integer", None),
    "int_type": ("reason_integer", None),
    "int_from_float": ("reason_integer", None),
    "float_parsing": ("reason_number", None),
    "float_type": ("reason_number", None),
    "finite_number": ("reason_number", None),
    "bool_parsing": ("reason_boolean", None),
    "bool_type": ("reason_boolean", None),
    "date_parsing": ("reason_date", None),
    "date_from_datetime_parsing": ("reason_date", None),
    "date_type": ("reason_date", None),
    "datetime_parsing": ("reason_datetime", None),
    "datetime_from_date_parsing": ("reason_datetime", None),
    "greater_than_equal": ("reason_min", "ge"),
    "greater_than": ("reason_min", "gt"),
    "less_than_equal": ("reason_max", "le"),
    "less_than": ("reason_max", "lt"),
    "string_too_short": ("reason_too_short", "min_length"),
    "string_too_long": ("reason_too_long", "max_length"),
    "missing": ("reason_required", None),
    "literal_error": ("reason_choice", "expected"),
    "enum": ("reason_choice", "expected"),
    "string_type": ("reason_string", None),
    "dict_type": ("reason_object", None),
    "model_type": ("reason_object", None),
    "model_attributes_type": ("reason_object", None),
    "list_type": ("reason_list", None),
    "json_invalid": ("reason_json", None),
}


# Starlette types every handler as taking an Exception; each narrows to what it is registered for.
async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """A route's signature refused a value: 400 naming the first field at fault and why."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if not errors:
        return error_response(request, 400, "invalid_request", errors="?")
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ())]
    field = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "body")
    reason_code, limit_key = _REASONS.get(first.get("type", ""), ("reason_other", None))
    ctx = first.get("ctx") or {}
    lang = preferred_language(request.headers.get("accept-language"))
    reason = message(reason_code, lang, limit=ctx.get(limit_key, "") if limit_key else "")
    value = first.get("input")
    shown = "" if value is None or isinstance(value, dict | list) else str(value)[:64]
    return error_response(
        request, 400, "invalid_field_value", parameter=field, reason=reason, value=shown
    )


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL refused a value that gis/values.py should have refused first: still the
    client's 400, and a warning that names the statement's complaint so the gap is closed."""
    assert isinstance(exc, DataError)
    log.warning("value refused by the database (%s %s): %s",
                request.method, request.url.path, exc)  # fmt: skip
    return error_response(request, 400, "value_out_of_range")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    response = error_response(request, exc.status_code, code)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    """Register the handlers on the app (called once by create_app)."""
    for exc_class in STATUS:
        app.add_exception_handler(exc_class, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
