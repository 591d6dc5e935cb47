"""The API's error messages, in Ukrainian: code → the message a person reads. The one place to
add a code's text (api/errors.py maps exceptions to statuses; the codes are raised by gis/,
layers/, tiles/ and api/). Its English goes in gis/locale/en/messages.po, keyed by this
Ukrainian text; `hromada texts missing` names any message still without it.

Placeholders are str.format's and are filled from the error's params ({value}, {parameter},
…; a value that differs by language is passed as `state_uk=…, state_en=…` and written
`{state}`); `{{` and `}}` stand for a literal brace.
"""

from __future__ import annotations

from gis.texts import N_

# code → Ukrainian. Placeholders are the error's params.
MESSAGES: dict[str, str] = {
    "unknown_collection": N_(
        "Колекцію «{collection}» не знайдено. Перелік колекцій: /ogc/collections."
    ),
    "feature_not_found": N_("Об’єкт «{feature_id}» у колекції «{collection}» не знайдено."),
    "unknown_parameter": N_(
        "Невідомий параметр запиту «{parameter}». Дозволені параметри: {allowed}."
    ),
    "repeated_parameter": N_("Параметр «{parameter}» вказано більше одного разу."),
    "invalid_format": N_("Непідтримуваний формат f={value}: підтримуються json і geojson."),
    "invalid_limit": N_("Параметр limit має бути цілим числом від 1 до {max}; отримано «{value}»."),
    "invalid_bbox": N_(
        "Параметр bbox має бути чотирма числами через кому: мінімальна довгота, мінімальна "
        "широта, максимальна довгота, максимальна широта (градуси WGS 84; шість чисел з "
        "висотами теж приймаються); отримано «{value}»."
    ),
    "invalid_datetime": N_(
        "Параметр datetime має бути моментом RFC 3339 (2026-03-01T10:00:00Z), датою "
        "(2026-03-01) або інтервалом «початок/кінець», де відкритий кінець — «..»; "
        "отримано «{value}»."
    ),
    "no_temporal_property": N_(
        "Колекція «{collection}» не має часової властивості, тож параметр datetime до неї "
        "не застосовний."
    ),
    "after_and_before": N_(
        "Параметри after і before не можна задавати разом: сторінка йде або вперед, або назад."
    ),
    "invalid_filter_integer": N_(
        "Параметр {parameter} приймає ідентифікатори — цілі числа через кому; отримано «{value}»."
    ),
    "invalid_filter_value": N_(
        "Параметр {parameter} не може мати значення «{value}». Можливі значення: {allowed}."
    ),
    # vector tiles (tiles/, api/routers/tiles.py)
    "invalid_tile": N_(
        "Адреса плитки /{{z}}/{{x}}/{{y}}.mvt: {parameter} має бути цілим числом (z від 0 до "
        "{max_zoom}); отримано «{value}»."
    ),
    "zoom_out_of_range": N_("Масштаб плитки z має бути від 0 до {max_zoom}; отримано {value}."),
    "tile_out_of_range": N_(
        "На масштабі {z} {parameter} плитки має бути від 0 до {max}; отримано {value}."
    ),
    "invalid_after": N_(
        "Параметр {parameter} має бути курсором з посилання next або prev (ідентифікатором "
        "об’єкта, а для звернень — «час~ідентифікатор»); отримано «{value}»."
    ),
    "invalid_request": N_("Некоректний запит: {errors}."),
    # what is wrong with one field, as the validation of a route's signature says it
    "invalid_field_value": N_(
        "Некоректний запит: поле «{parameter}» {reason} (отримано «{value}»)."
    ),
    "reason_integer": N_("має бути цілим числом"),
    "reason_number": N_("має бути числом"),
    "reason_boolean": N_("має бути true або false"),
    "reason_date": N_("має бути датою РРРР-ММ-ДД"),
    "reason_datetime": N_("має бути моментом часу RFC 3339"),
    "reason_min": N_("має бути не менше {limit}"),
    "reason_max": N_("має бути не більше {limit}"),
    "reason_too_short": N_("закоротке: щонайменше {limit} символів"),
    "reason_too_long": N_("задовге: щонайбільше {limit} символів"),
    "reason_required": N_("обов’язкове"),
    "reason_choice": N_("має бути одним із: {limit}"),
    "reason_string": N_("має бути рядком"),
    "reason_object": N_("має бути об’єктом JSON"),
    "reason_list": N_("має бути списком"),
    "reason_json": N_("некоректний JSON"),
    "reason_other": N_("має некоректне значення"),
    "database_unavailable": N_("База даних недоступна. Спробуйте пізніше."),
    "postgis_missing": N_("У базі даних немає PostGIS: виконайте «hromada migrate»."),
    "not_authenticated": N_(
        "Потрібно увійти: надішліть токен (Authorization: Bearer …) або увійдіть на порталі."
    ),
    "forbidden": N_(
        "Недостатньо прав: ця дія недоступна для вашої ролі або поза вашою територією."
    ),
    "rate_limited": N_("Забагато спроб. Повторіть через {retry_after} с."),
    "payload_too_large": N_("Запит завеликий: найбільший дозволений розмір — {limit} байт."),
    # --- accounts (issue 3): add new codes below this line ---
    # sign-in, sessions, registration (gis/accounts.py, api/routers/auth.py, me.py)
    "invalid_credentials": N_("Неправильна адреса e-mail або пароль."),
    "account_locked": N_(
        "Забагато невдалих спроб входу в цей обліковий запис з вашої адреси: зачекайте "
        "{retry_after} с перед наступною спробою або відновіть пароль."
    ),
    "email_not_confirmed": N_(
        "Адресу e-mail ще не підтверджено: відкрийте посилання з листа, надісланого під час "
        "реєстрації (або відновіть пароль — лист прийде знову)."
    ),
    "account_inactive": N_("Обліковий запис вимкнено. Зверніться до адміністратора."),
    "demo_account_disabled": N_(
        "Демонстраційні облікові записи працюють лише в демонстраційному режимі."
    ),
    "csrf_failed": N_(
        "Запит відхилено: бракує CSRF-токена (заголовок X-CSRF-Token) або він не збігається "
        "з токеном сеансу. Оновіть сторінку й спробуйте ще раз."
    ),
    "weak_password": N_(
        "Пароль надто простий: щонайменше {min} символів, не збігається з адресою e-mail і "
        "не складається з одного-двох повторюваних символів."
    ),
    "password_too_long": N_("Пароль задовгий: щонайбільше {max} символів."),
    "invalid_token": N_(
        "Посилання недійсне: його вже використано або строк його дії минув. Попросіть нове."
    ),
    "wrong_password": N_("Неправильний пароль."),
    "invalid_session_kind": N_("Невідомий вид сеансу «{kind}»: можливі token і cookie."),
    "invalid_token_purpose": N_("Невідоме призначення токена «{purpose}»."),
    "mail_unavailable": N_("Не вдалося надіслати лист. Спробуйте пізніше."),
    # scopes, staff and administration (gis/scope.py, api/routers/staff.py, admin.py)
    "appeal_not_found": N_("Звернення № {number} не знайдено."),
    "appeal_wrong_state": N_(
        "Звернення № {number} має статус «{state}»: взяти в роботу можна лише звернення зі "
        "статусом {allowed}."
    ),
    # the lifecycle (gis/lifecycle.py, api/routers/lifecycle.py)
    "appeal_transition_refused": N_(
        "Звернення № {number} має статус «{state}»: дія «{action}» можлива лише для "
        "звернень зі статусом {allowed}."
    ),
    "appeal_already_supported": N_("Ви вже підтримали звернення № {number}."),
    # an author's links (gis/author_links.py) and the channel chosen at filing (gis/intake.py)
    "author_link_invalid": N_(
        "Посилання недійсне для звернення № {number}: відкрийте посилання з останнього "
        "повідомлення про це звернення, без змін."
    ),
    "author_comment_required": N_(
        "Напишіть, що саме не виконано: без коментаря звернення не повертається на доопрацювання."
    ),
    "notify_channel_needs_phone": N_(
        "Повідомлення через {channel} надходять на телефон: вкажіть номер телефону або "
        "оберіть інший спосіб повідомлення."
    ),
    "notify_channel_needs_email": N_(
        "Повідомлення електронною поштою надходять на e-mail: вкажіть адресу e-mail або "
        "оберіть інший спосіб повідомлення."
    ),
    "notify_channel_not_offered": N_(
        "Повідомлення через {channel} у цій громаді не надсилаються: оберіть e-mail або "
        "«не повідомляти»."
    ),
    "geocode_query_too_short": N_("Уведіть щонайменше {min} літери назви вулиці або адреси."),
    "geocode_query_too_long": N_("Запит задовгий: щонайбільше {max} символів."),
    "field_required": N_("Заповніть поле «{parameter}»."),
    "invalid_value": N_("Неприпустиме значення поля «{parameter}»: «{value}»."),
    "invalid_request_body": N_("Тіло запиту має бути JSON-об’єктом."),
    "executor_not_subordinate": N_(
        "Виконавець «{value}» не є підпорядкованою організацією виконавця звернення: "
        "доручити можна лише своїй підпорядкованій організації."
    ),
    "resolution_deadline_too_late": N_(
        "Строк доручення не може бути пізнішим за строк звернення ({limit})."
    ),
    "extension_over_limit": N_(
        "Строк розгляду можна продовжити щонайбільше до {limit}: загалом не більше {days} днів "
        "від реєстрації (ст. 20 Закону «Про звернення громадян»)."
    ),
    "extension_not_later": N_("Новий строк має бути пізнішим за чинний ({current})."),
    "extension_in_past": N_(
        "Новий строк має бути в майбутньому (сьогодні {today}): продовжте до дати після сьогодні."
    ),
    "extension_request_none": N_(
        "Звернення № {number} не має прохання продовжити строк, що чекає рішення."
    ),
    "appeal_already_located": N_(
        "Звернення № {number} вже має місце на мапі: вказати місце можна лише зверненню без нього."
    ),
    "locate_outside_city": N_(
        "Точка ({lon}, {lat}) лежить поза межами громади: місцем звернення № {number} може бути "
        "лише точка в межах громади. Оберіть точку на мапі міста або знайдіть адресу."
    ),
    "invalid_status": N_("Невідомий статус «{value}». Можливі статуси: {allowed}."),
    "invalid_cursor": N_(
        "Параметр after має бути значенням next попередньої сторінки; отримано «{value}»."
    ),
    "invalid_role": N_("Невідома роль «{value}». Можливі ролі: {allowed}."),
    "invalid_email": N_("Некоректна адреса електронної пошти: «{value}»."),
    "password_too_short": N_("Пароль закороткий: щонайменше {min} символів."),
    "full_name_required": N_("Вкажіть ім’я користувача."),
    "email_taken": N_("Користувач з адресою {email} уже існує."),
    "unknown_executor": N_("Виконавця «{value}» не знайдено."),
    "executor_required": N_(
        "Для ролі «{role}» потрібно вказати організацію-виконавця (executor_id або executor_code)."
    ),
    "ward_required": N_("Для депутата потрібно вказати номер виборчого округу (ward_number)."),
    "unknown_ward": N_("Виборчого округу № {value} немає."),
    "user_not_found": N_("Користувача {id} не знайдено."),
    "ward_not_found": N_("Виборчий округ № {number} не знайдено."),
    "cannot_deactivate_self": N_("Адміністратор не може вимкнути власний обліковий запис."),
    "invalid_deadline_days": N_(
        "Строк розгляду має бути від 1 до 45 днів (ст. 20 Закону «Про звернення громадян»); "
        "отримано {value}."
    ),
    "category_not_found": N_("Категорію {id} не знайдено."),
    "category_query_too_short": N_(
        "Уведіть щонайменше {min} літери: що сталося, словами заявника."
    ),
    "category_query_too_long": N_("Запит категорії задовгий: щонайбільше {max} символів."),
    "invalid_keywords": N_(
        "Ключові слова — список рядків: щонайбільше {max}, кожне до {chars} символів."
    ),
    "supporter_contact_required": N_(
        "Вкажіть телефон або електронну пошту абонента, від імені якого підтримуєте звернення."
    ),
    "caller_query_required": N_(
        "Уведіть телефон (щонайменше 5 цифр) або електронну пошту заявника."
    ),
    "unknown_category": N_("Категорії {value} немає."),
    "rule_one_area": N_(
        "Правило маршрутизації може мати щонайбільше одну територію: район, округ або "
        "територію виконавця."
    ),
    "routing_rule_not_found": N_("Правило маршрутизації {id} не знайдено."),
    "notification_not_found": N_("Сповіщення {id} не знайдено."),
    "territory_not_found": N_("Чинної території виконавця з кодом «{value}» не знайдено."),
    "territory_file_invalid": N_(
        "Файл території не прочитано ({reason}): потрібен GeoJSON або GeoPackage з полігонами."
    ),
    # Open311 client applications and their keys (gis/open311_clients.py)
    "open311_client_name_required": N_("Вкажіть назву застосунку (name)."),
    "open311_client_exists": N_("Застосунок «{name}» уже має ключ: оберіть іншу назву."),
    "open311_client_not_found": N_("Застосунок Open311 {id} не знайдено."),
    "open311_client_name_not_found": N_("Застосунку Open311 «{name}» не знайдено."),
    "open311_key_required": N_(
        "Потрібен ключ API (api_key): його видає адміністратор громади для кожного застосунку."
    ),
    "open311_key_invalid": N_("Ключ API (api_key) невідомий або відкликаний."),
    "open311_token_not_found": N_("Токен «{token}» не знайдено."),
    "open311_service_code_required": N_(
        "Вкажіть послугу (service_code): перелік послуг — /open311/v2/services.xml."
    ),
    "open311_author_name_required": N_(
        "Вкажіть прізвище (last_name) та ім’я (first_name) автора: анонімні звернення не "
        "розглядаються (ст. 8 Закону «Про звернення громадян»)."
    ),
    "open311_author_address_required": N_(
        "Вкажіть поштову адресу автора (attribute[author_address]): звернення без адреси "
        "вважається анонімним і не розглядається (ст. 5, 8 Закону «Про звернення громадян»)."
    ),
    "open311_coordinates": N_(
        "Потрібні обидві координати, lat (широта) і long (довгота), у градусах WGS 84; "
        "бракує «{parameter}»."
    ),
    "open311_house_required": N_(
        "Адреса (address_string) має містити вулицю й номер будинку через кому, наприклад "
        "«вулиця Хрещатик, 22»."
    ),
    "open311_location_required": N_(
        "Вкажіть місце проблеми: lat і long, адресу (address_string: вулиця й будинок) або "
        "address_id (код вулиці з реєстру) з номером будинку в address_string."
    ),
    # the daily dispatch (gis/dispatch.py)
    "dispatch_not_found": N_("Розсилку {id} не знайдено."),
    "dispatch_batch_not_found": N_("Відправлення {id} цієї розсилки не знайдено."),
    "dispatch_batch_not_failed": N_(
        "Відправлення {id} не позначене як невдале: повторити можна лише невдале."
    ),
    "dispatch_one_recipient": N_(
        "Вкажіть одного отримувача: адресу e-mail (email) або адресу вебхука (webhook_url)."
    ),
    "dispatch_one_area": N_(
        "Вкажіть щонайбільше одну територію: район, виборчий округ або полігон."
    ),
    "dispatch_area_invalid": N_(
        "Територія має бути полігоном GeoJSON (Polygon, MultiPolygon, Feature або "
        "FeatureCollection з полігонами) у градусах WGS 84."
    ),
    # placement rules of structures and kiosks (gis/placement_rules.py)
    "placement_rule_not_found": N_("Правило розміщення {id} не знайдено."),
    "placement_rule_layer": N_(
        "Правило розміщення стосується шару «advertising_structures» (рекламні конструкції) "
        "або «kiosks» (МАФ); отримано «{value}»."
    ),
    "placement_rule_kind": N_(
        "Вид правила (kind) — один із: min_distance_same (не ближче N м до іншого об’єкта того "
        "ж шару), min_distance_layer (не ближче N м до об’єктів іншого шару), "
        "not_inside_layer (не всередині полігонів іншого шару); отримано «{value}»."
    ),
    "placement_rule_distance": N_(
        "Для правила «{kind}» потрібна відстань distance_m — число метрів від 1 до {max}; "
        "отримано «{value}»."
    ),
    "placement_rule_no_distance": N_("Правило «{kind}» не має відстані: не вказуйте distance_m."),
    "placement_rule_other_layer_required": N_(
        "Для правила «{kind}» вкажіть шар other_layer з каталогу шарів (/api/v1/layers)."
    ),
    "placement_rule_unknown_layer": N_(
        "Шар «{value}» не можна вказати в правилі: лише advertising_structures, kiosks або "
        "тематичний шар каталогу (/api/v1/layers)."
    ),
    "placement_rule_not_polygons": N_(
        "Шар «{value}» не полігональний ({geometry_type}): правилу not_inside_layer потрібен "
        "шар з полігонами (охоронна зона, історичний ареал)."
    ),
    "layer_not_found": N_("Шар «{name}» не знайдено."),
    "layer_is_core": N_("Шар «{name}» — базовий; змінювати можна лише тематичні шари."),
    "invalid_update_regime": N_("Невідомий режим оновлення «{value}». Можливі: {allowed}."),
    "title_required": N_("Назва шару не може бути порожньою."),
    # routing by polygon (gis/routing.py, api/routers/routing.py)
    "coordinate_missing": N_(
        "Не вказано координату «{parameter}»: потрібні обидві, lon (довгота) і lat (широта), "
        "у градусах WGS 84, наприклад lon=30.5234&lat=50.4501."
    ),
    "invalid_coordinate": N_(
        "Координата «{parameter}» має бути числом у градусах WGS 84 (довгота від -180 до 180, "
        "широта від -90 до 90), наприклад lon=30.5234&lat=50.4501; отримано «{value}»."
    ),
    "category_required": N_(
        "Вкажіть категорію звернення (параметр category: її id або код); перелік категорій — "
        "/api/v1/categories."
    ),
    "outside_service_area": N_(
        "Точка ({lon}, {lat}) лежить поза межами громади, яку обслуговує ця система. "
        "Перевірте, чи не переплутано довготу й широту, або вкажіть місце в межах громади; "
        "звернення без прив’язки до місця можна подати без координат."
    ),
    # appeal intake (gis/intake.py, gis/photos.py, api/routers/appeals.py)
    "text_required": N_("Опишіть проблему: текст звернення не може бути порожнім."),
    "text_too_long": N_(
        "Текст звернення задовгий: {length} символів, а можна щонайбільше {max}. Скоротіть "
        "його або опишіть лише одну проблему (одне звернення — одна проблема)."
    ),
    "text_obscene": N_(
        "Звернення містить нецензурну лексику, тож його не може бути прийнято. Приберіть "
        "лайливі слова й надішліть його знову."
    ),
    "author_name_required": N_(
        "Вкажіть прізвище, ім’я та по батькові автора: анонімні звернення не розглядаються "
        "(ст. 8 Закону «Про звернення громадян»)."
    ),
    "author_name_latin": N_(
        "Ім’я автора має бути написане кирилицею (українськими літерами), а не латиницею, "
        "наприклад «Петренко Іван Миколайович»."
    ),
    "author_name_invalid": N_(
        "Ім’я автора може містити лише літери кирилиці, апостроф, дефіс, крапку, дужки і "
        "пробіли, наприклад «Ковальчук-Дем’яненко Олена»."
    ),
    "author_address_required": N_(
        "Вкажіть поштову адресу автора (куди надіслати відповідь): звернення без адреси "
        "вважається анонімним і не розглядається (ст. 8 Закону «Про звернення громадян»)."
    ),
    "author_contact_required": N_(
        "Вкажіть, як з автором зв’язатися: адресу електронної пошти або номер телефону."
    ),
    "invalid_phone": N_(
        "Некоректний номер телефону «{value}»: вкажіть 10–15 цифр, наприклад +380 44 123 45 67."
    ),
    "field_too_long": N_("Поле «{parameter}» задовге: щонайбільше {max} символів."),
    "invalid_field": N_(
        "Поле «{parameter}» має неправильний тип: очікується текст (або об’єкт для author і "
        "location)."
    ),
    "invalid_boolean": N_("Поле «{parameter}» має бути true або false; отримано «{value}»."),
    "invalid_json": N_(
        "Тіло запиту (або поле «{parameter}») має бути JSON-об’єктом з полями звернення."
    ),
    "unsupported_content_type": N_(
        "Непідтримуваний тип вмісту «{value}»: надсилайте application/json або "
        "multipart/form-data (з фотографіями)."
    ),
    "category_not_subkind": N_("«{name}» — це вид звернення; оберіть його підвид: {subkinds}."),
    "unknown_channel": N_("Невідомий канал надходження «{value}». Можливі: {allowed}."),
    "channel_not_allowed": N_(
        "Громадяни подають звернення через сайт (channel=site); канал «{value}» може вказати "
        "лише оператор, який реєструє звернення від імені громадянина."
    ),
    "too_many_photos": N_("Забагато фотографій: {count}, а можна щонайбільше {max}."),
    "photo_not_image": N_(
        "Файл «{name}» не є зображенням JPEG, PNG або WebP (або пошкоджений). Додайте фото в "
        "одному з цих форматів."
    ),
    "photo_too_large": N_(
        "Файл «{name}» завеликий: щонайбільше {max_mb} МБ на одне фото. Зменште його розмір."
    ),
    "photo_too_many_pixels": N_(
        "Зображення «{name}» завелике ({width}×{height} пікселів). Зменште його роздільність."
    ),
    "photo_not_found": N_("Фото не знайдено."),
    # the files of a permit (gis/permit_documents.py)
    "document_file_required": N_(
        "Надішліть один файл у полі «file» запиту multipart/form-data (PDF, JPEG або PNG)."
    ),
    "document_type_unsupported": N_(
        "Файл «{name}» не є документом PDF, JPEG або PNG (або пошкоджений). Додайте файл в "
        "одному з цих форматів."
    ),
    "document_too_large": N_(
        "Файл «{name}» завеликий: щонайбільше {max_mb} МБ на один документ. Зменште його розмір."
    ),
    "too_many_documents": N_(
        "У цього об’єкта вже {count} документів дозволу — це найбільше ({max}). Видаліть "
        "непотрібний, щоб додати новий."
    ),
    "document_not_found": N_("Документ {id} не знайдено."),
    "photo_location_outside": N_(
        "Місце не вказано, а GPS-позиція з першого фото ({lon}, {lat}) лежить поза межами "
        "громади. Позначте місце проблеми на мапі, вкажіть адресу або no_location: true."
    ),
    "location_required": N_(
        "Вкажіть місце проблеми: точку на мапі (location.lon, location.lat), адресу "
        "(location.street і location.house) або позначте, що звернення не прив’язане до місця "
        "(location.no_location: true)."
    ),
    "location_ambiguous": N_(
        "Місце вказано кількома способами ({given}): залиште щось одне — точку, адресу або "
        "no_location."
    ),
    "address_incomplete": N_(
        "Для адреси потрібні і вулиця (location.street), і номер будинку (location.house)."
    ),
    "unknown_street": N_(
        "Вулицю «{street}» не знайдено в реєстрі вулиць. Перевірте назву (наприклад, «вулиця "
        "Хрещатик») або позначте місце на мапі."
    ),
    "address_not_found": N_(
        "Будинок {house} на «{street}» не знайдено серед відомих адрес. Перевірте номер або "
        "позначте місце на мапі (location.lon, location.lat)."
    ),
    "invalid_idempotency_key": N_(
        "Заголовок Idempotency-Key має бути від 1 до 128 видимих символів ASCII (наприклад, UUID)."
    ),
    "idempotency_key_reused": N_(
        "Цей Idempotency-Key уже використано для іншого звернення. Для нового звернення "
        "створіть новий ключ; повтор має надсилати те саме звернення без змін."
    ),
    # the public feed and its statistics (gis/public_feed.py, api/routers/public_feed.py)
    "invalid_type": N_(
        "Невідомий тип звернення «{value}»: можливі complaint (скарги) і thanks (подяки)."
    ),
    "invalid_period": N_(
        "Невідомий період «{value}». Можливі: {allowed} (custom — з date_from і/або date_to)."
    ),
    "invalid_date": N_(
        "Параметр {parameter} має бути датою у форматі РРРР-ММ-ДД, наприклад 2026-03-01; "
        "отримано «{value}»."
    ),
    "unknown_report": N_("Звіту «{name}» немає. Можливі звіти: {allowed}."),
    "report_parameter_not_applicable": N_("Параметр {parameter} не застосовний до звіту «{name}»."),
    "invalid_report_format": N_("Непідтримуваний формат звіту «{value}»: можливі {allowed}."),
    "report_format_not_applicable": N_(
        "Формат {value} є лише у звіту hexagons; звіт «{name}» можна отримати як {allowed}."
    ),
    "invalid_hexagon_size": N_(
        "Параметр size — ребро шестикутника в метрах на місцевості — має бути цілим числом "
        "від {min} до {max}; отримано «{value}»."
    ),
    "invalid_date_range": N_("Початкова дата {date_from} пізніша за кінцеву {date_to}."),
    "dates_need_custom_period": N_(
        "Дати date_from і date_to задають власний період: вкажіть period=custom або не "
        "вказуйте period (отримано period={value})."
    ),
    "custom_period_needs_dates": N_(
        "Для period=custom вкажіть date_from і/або date_to (дати РРРР-ММ-ДД)."
    ),
    "unknown_district": N_(
        "Район «{value}» не знайдено: вкажіть ідентифікатор району або його код КАТОТТГ (UA80…)."
    ),
    "invalid_top": N_("Параметр top має бути цілим числом від 1 до {max}; отримано «{value}»."),
    "too_many_values": N_("Забагато значень у параметрі {parameter}: щонайбільше {max}."),
    "empty_parameter": N_("Параметр {parameter} вказано без значення."),
    # the edge of the service (gis/values.py, api/guard.py)
    "invalid_characters": N_(
        "Поле «{parameter}» містить недопустимий символ {character} (керівний символ, нульовий "
        "байт, непарний сурогат або знак зміни напрямку тексту). Приберіть його й надішліть ще раз."
    ),
    "invalid_integer": N_(
        "Параметр {parameter} має бути цілим числом від {min} до {max}; отримано «{value}»."
    ),
    "value_out_of_range": N_(
        "Значення поза допустимими межами (число завелике чи замале або дата поза межами). "
        "Перевірте числа й дати в запиті."
    ),
    "too_many_fields": N_("Забагато полів у формі: щонайбільше {max}."),
    "form_part_too_large": N_("Поле форми «{parameter}» завелике: щонайбільше {max_kb} КБ."),
    "invalid_form": N_(
        "Форму не вдалося прочитати: надішліть її як multipart/form-data або "
        "application/x-www-form-urlencoded, кожне поле з назвою."
    ),
    "internal_error": N_(
        "Внутрішня помилка сервісу. Ми вже знаємо про неї; якщо вона повториться, назвіть "
        "у зверненні до підтримки номер запиту {request_id}."
    ),
    # Open311 GeoReport v2 (gis/open311.py)
    "open311_invalid_datetime": N_(
        "Параметр {parameter} має бути датою й часом ISO 8601 (2026-11-30T14:05:00+02:00) "
        "або датою (2026-11-30); отримано «{value}»."
    ),
    "open311_dates_reversed": N_("Початок {start_date} пізніший за кінець {end_date}."),
    "open311_window_too_long": N_("Між start_date і end_date може бути щонайбільше {days} днів."),
    "open311_invalid_service_code": N_(
        "Код послуги (service_code) — це число; отримано «{value}»."
    ),
    "open311_invalid_status": N_("Невідомий статус «{value}»: можливі open і closed."),
    "open311_unknown_jurisdiction": N_("Юрисдикцію «{value}» не знайдено."),
    "open311_unknown_service": N_("Послугу (service_code) «{value}» не знайдено."),
    "open311_request_not_found": N_("Звернення (service_request_id) «{number}» не знайдено."),
    "not_found": N_("Сторінку не знайдено."),
    "method_not_allowed": N_("Метод не дозволений."),
    "http_error": N_("Помилка запиту."),
    # editing advertising structures and kiosks (gis/structures.py, OGC API – Features Part 4)
    "precondition_required": N_(
        "Вкажіть заголовок If-Match з версією об’єкта (ETag, отриманий разом з об’єктом): без "
        "нього зміну не прийнято, щоб не затерти чужу."
    ),
    "precondition_failed": N_(
        "Об’єкт «{feature_id}» змінили після того, як ви його відкрили (ваша версія {given}, "
        "поточна {current}). Поточний стан — у полі current: перегляньте його і внесіть зміну "
        "ще раз."
    ),
    "placement_rule_violated": N_(
        "Тут розміщувати не можна: так каже правило «{title}». Перенесіть об'єкт далі від "
        "того, що заважає, або за межі забороненої зони."
    ),
    "collection_not_editable": N_(
        "Колекцію «{collection}» не можна змінювати: редагуються лише advertising_structures і "
        "kiosks."
    ),
    "invalid_feature_json": N_(
        "Тіло запиту має бути JSON-об’єктом GeoJSON Feature (type, geometry, properties)."
    ),
    "edit_content_type": N_(
        "Непідтримуваний тип вмісту «{value}»: надсилайте application/geo+json або "
        "application/json (для PATCH також application/merge-patch+json)."
    ),
    "invalid_geometry": N_(
        "Поле geometry має бути коректною GeoJSON-геометрією типу {allowed} з координатами "
        "«довгота, широта» в градусах WGS 84."
    ),
    "unknown_property": N_("Невідома властивість «{parameter}». Дозволені: {allowed}."),
    "property_required": N_("Вкажіть властивість «{parameter}»."),
    "invalid_property": N_("Властивість «{parameter}» має неправильне значення «{value}»: {hint}."),
    "code_taken": N_("Об’єкт з кодом «{value}» у цьому шарі вже є."),
    # bulk import of a register (importers/registers.py, api/routers/structure_import.py)
    "register_empty": N_("Файл «{name}» порожній: у ньому немає рядка заголовків."),
    "register_not_a_table": N_(
        "Файл «{name}» — не таблиця CSV чи XLSX. Збережіть реєстр як CSV (UTF-8) або XLSX."
    ),
    "register_old_excel": N_(
        "Файл «{name}» — у старому форматі Excel (.xls). Збережіть його як XLSX або CSV."
    ),
    "register_too_many_rows": N_("У файлі понад {max} рядків: розділіть реєстр на частини."),
    "register_no_code_column": N_(
        "Немає стовпця з кодом об’єкта ({expected}); перший рядок має бути заголовком з назвами "
        "стовпців. Стовпці файлу: {columns}."
    ),
    "register_no_place_columns": N_(
        "Немає ні стовпців координат ({x} і {y}), ні стовпця адреси ({address}). Стовпці файлу: "
        "{columns}."
    ),
    "register_unknown_crs": N_(
        "Невідома система координат «{value}»: вкажіть код EPSG, наприклад 4326 (WGS 84), 3857, "
        "32636 (UTM 36N) чи 6384 (УСК-2000, зона 10)."
    ),
    "register_unknown_layer": N_(
        "Шар «{value}» не імпортується з реєстру: лише advertising_structures і kiosks."
    ),
    "register_unplaced": N_("Рядок не імпортовано."),
    "register_no_code": N_("Немає коду об’єкта (стовпець «{column}»)."),
    "register_duplicate_code": N_("Код «{value}» уже є в рядку {first}: узято той рядок."),
    "register_bad_coordinates": N_("Координати «{x}», «{y}» — не числа (або є лише одна)."),
    "register_no_place": N_("Немає ні координат, ні адреси."),
    "register_address_not_found": N_(
        "Адресу «{address}» не знайдено: потрібні вулиця з реєстру вулиць і номер будинку."
    ),
    "register_outside_city": N_(
        "Точка ({lon}, {lat}) поза межами громади: перевірте систему координат ({crs}) і "
        "порядок стовпців x, y."
    ),
    "register_code_retired": N_(
        "Об’єкт з кодом «{value}» вилучено з шару: новий з тим самим кодом не створюється."
    ),
    "register_placement_rule": N_("Розміщення заборонене правилом «{title}» (заважає: {near})."),
    # Issue 17: councils (громади) as tenants (gis/councils.py, gis/scope.py).
    "council_not_found": N_(
        "Громаду «{council}» не знайдено: вкажіть її скорочену назву (slug) або код КАТОТТГ; "
        "перелік громад: /api/v1/councils."
    ),
    "council_required": N_(
        "Система обслуговує кілька громад: вкажіть громаду (параметр council — її скорочена "
        "назва або код КАТОТТГ)."
    ),
    "council_occupied": N_(
        "Громада «{council}» тимчасово окупована (з {since}): звернення до неї не приймаються."
    ),
    "point_in_other_council": N_(
        "Нове місце лежить в іншій громаді («{council}»): спершу передайте звернення цій громаді."
    ),
    "transfer_too_late": N_(
        "Передати звернення іншій громаді можна лише протягом {days} днів від реєстрації."
    ),
    "transfer_same_council": N_("Звернення вже належить цій громаді."),
    "category_not_in_council": N_(
        "Громада «{council}» не приймає звернень категорії «{value}»: перелік її категорій — "
        "/api/v1/categories?council={slug}."
    ),
    "executor_not_in_council": N_(
        "Виконавець «{value}» працює в іншій громаді: оберіть виконавця громади звернення."
    ),
    "council_mismatch": N_(
        "Громада не збігається з громадою організації, округу чи облікового запису."
    ),
    "open311_outside_jurisdiction": N_(
        "Точка лежить поза громадою jurisdiction_id={jurisdiction}: вкажіть громаду, де вона є."
    ),
    # --- issue 17: A ---
    # --- issue 17: B ---
    "council_prefix_in_use": N_(
        "Префікс номерів громади «{council}» не можна змінити: вона вже має звернення з номерами."
    ),
    "council_prefix_taken": N_("Префікс номерів «{value}» уже має громада «{council}»."),
    "council_category_exists": N_("Громада вже має підвид «{name}» у цьому виді звернень."),
    # --- issue 17: C ---
    # --- issue 17: D ---
    # --- issue 17: F (planners) ---
    "place_outside_council": N_(
        "Місце лежить поза громадою, об’єкти якої ви ведете: оберіть місце у своїй громаді."
    ),
    "placement_rules_shared": N_(
        "Правила розміщення спільні для всіх громад: змінює їх адміністратор області."
    ),
}
