"""Synthetic AWM-style scenarios: server code, SQLite schema, sample data and API spec.

A scenario here has the same shape as a row of the Agent World Model dataset (AWM-1K): a FastAPI
module backed by SQLAlchemy, a SQLite schema, INSERT statements and a spec of the endpoints. The
rows are written in the "arcee layout" (``scenario``, ``env``, ``db``, ``sample``, ``spec``,
``val_report``), JSON Lines, sharded as ``scenarios-00000.jsonl``, ``scenarios-00001.jsonl``, ...

Everything is derived from one internal description per scenario, so the spec agrees with the code
by construction, and every endpoint answers 2xx when called with its spec examples on a fresh copy
of the database built from ``db`` + ``sample``.

Deterministic: ``generate_scenario(index, seed)`` depends only on its arguments (seeded from a
SHA-256 of both, never on ``hash()``), so the same seed gives byte-identical files.

Standard library only.

Example::

    >>> row = generate_scenario(0, seed=7)
    >>> sorted(row)
    ['db', 'env', 'sample', 'scenario', 'spec', 'val_report']
    >>> write_dataset(1000, seed=7, out_dir=Path("data/synthetic"))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import keyword
import random
import re
from pathlib import Path
from typing import Any, Iterator

__all__ = ["DOMAINS", "generate_scenario", "iter_scenarios", "write_dataset", "SHARD_PATTERN"]

SHARD_PATTERN = "scenarios-{:05d}.jsonl"
_SHARD_RE = re.compile(r"^scenarios-\d{5}\.jsonl$")

# Domain vocabulary.
#
# Each domain: (key, api title, "where" phrase, user roles, entities).
# Each entity: (singular, plural, parents, columns, words)
#   parents: space-separated singulars of parent entities in the same domain;
#            "user" makes the entity owned by a user (a user_id column).
#   columns: space-separated "name:kind[:args]" (an entity without a title, person or code column
#            gets a generated "reference_code" code column); kinds:
#            title (TEXT NOT NULL display name), person (TEXT NOT NULL person name),
#            text (TEXT NULL), enum:a,b,c (TEXT NOT NULL CHECK IN), int:lo:hi (INTEGER NOT NULL),
#            real:lo:hi (REAL NOT NULL), money:lo:hi (REAL NOT NULL, cents), bool (BOOLEAN 0/1),
#            dt (DATETIME NULL), code:PFX (TEXT NOT NULL UNIQUE), email (TEXT NULL), phone (TEXT NULL)
#   words:   how titles are made: "A B C" -> "<Adjective> <Word>",
#            "|one|two" -> one of the phrases, "=Room" -> "Room 214";
#            groups separated by " ;; " apply to the title columns in order.
# fmt: off
_DOMAINS = [
    ("library", "City Library", "in the library system", "patron,librarian,volunteer", [
        ("author", "authors", "", "name:person country:enum:usa,uk,canada,india,nigeria,brazil,japan birth_year:int:1900:2000 is_living:bool biography:text average_rating:real:1:5", ""),
        ("branch", "branches", "", "name:title city:enum:springfield,riverton,lakewood,fairview,hillcrest opened_at:dt seat_capacity:int:40:600 has_cafe:bool phone:phone annual_budget:money:50000:900000", "Library Reading_Room Annex Learning_Center Branch"),
        ("book", "books", "author", "title:title isbn:code:ISBN genre:enum:fiction,history,science,poetry,biography,mystery page_count:int:80:950 list_price:money:5:80 is_available:bool published_at:dt summary:text", "Harbor Garden Orchard Lantern Voyage River Kingdom Letters Winter Atlas"),
        ("copy_item", "copy_items", "book branch", "barcode:code:CPY condition:enum:new,good,worn,damaged shelf_number:int:1:300 acquired_at:dt is_reference_only:bool replacement_cost:money:8:120", ""),
        ("loan", "loans", "user copy_item", "loan_number:code:LN status:enum:active,returned,overdue,lost borrowed_at:dt due_at:dt renewal_count:int:0:3 late_fee:money:0:25 is_renewable:bool note:text", ""),
        ("hold_request", "hold_requests", "user book", "status:enum:waiting,ready,fulfilled,cancelled queue_position:int:1:20 placed_at:dt expires_at:dt notify_by_email:bool pickup_note:text", ""),
        ("library_event", "library_events", "branch", "title:title category:enum:reading,workshop,storytime,lecture,film starts_at:dt seat_limit:int:10:200 is_free:bool ticket_price:money:0:25 description:text", "|Poetry Night|Coding for Kids|Author Talk|Local History Hour|Film Club|Book Swap|Chess Workshop|Storytime Saturday"),
    ]),
    ("clinic", "Community Clinic", "at the clinic", "patient,nurse,physician,admin", [
        ("department", "departments", "", "name:title wing:enum:north,south,east,west floor_number:int:1:9 is_emergency:bool bed_count:int:0:60 phone:phone budget:money:100000:2000000 description:text", "Cardiology Pediatrics Dermatology Orthopedics Neurology Radiology Oncology"),
        ("doctor", "doctors", "department", "name:person specialty:enum:general,cardiology,pediatrics,dermatology,neurology,orthopedics years_experience:int:1:35 consultation_fee:money:50:400 accepts_new_patients:bool license_number:code:LIC hired_at:dt", ""),
        ("patient", "patients", "user", "name:person blood_type:enum:A+,A-,B+,B-,O+,O-,AB+ insurance_plan:enum:none,basic,standard,premium weight_kg:real:40:130 is_smoker:bool date_of_birth:dt medical_record_number:code:MRN allergies:text", ""),
        ("appointment", "appointments", "patient doctor", "reason:title status:enum:scheduled,checked_in,completed,cancelled,no_show scheduled_at:dt duration_minutes:int:15:90 is_telehealth:bool copay:money:0:80 visit_notes:text", "|Annual checkup|Follow-up visit|Flu symptoms|Back pain|Vaccination|Skin rash|Blood pressure review|Sports injury"),
        ("prescription", "prescriptions", "appointment", "medication:title dosage_mg:int:5:1000 refills_remaining:int:0:5 status:enum:active,completed,cancelled is_controlled:bool issued_at:dt instructions:text daily_cost:money:0:40", "|Amoxicillin|Ibuprofen|Lisinopril|Metformin|Atorvastatin|Omeprazole|Cetirizine|Albuterol"),
        ("lab_result", "lab_results", "patient", "test_name:title result_value:real:0:300 unit:enum:mg/dL,mmol/L,g/L,percent is_abnormal:bool collected_at:dt status:enum:pending,final,amended comment:text", "|Glucose|Cholesterol|Hemoglobin|Vitamin D|Creatinine|Potassium|TSH|HbA1c"),
        ("invoice", "invoices", "patient", "invoice_number:code:INV amount_due:money:20:2500 status:enum:draft,sent,paid,overdue issued_at:dt paid_at:dt is_insured:bool line_count:int:1:12", ""),
    ]),
    ("fleet", "Fleet Operations", "in the fleet", "driver,dispatcher,mechanic,manager", [
        ("depot", "depots", "", "name:title region:enum:north,south,east,west,central capacity:int:10:300 has_fuel_station:bool opened_at:dt phone:phone", "Depot Yard Hub Terminal Garage"),
        ("vehicle", "vehicles", "depot", "plate_number:code:PLT vehicle_model:title fuel_type:enum:diesel,gasoline,electric,hybrid odometer_km:int:100:400000 load_capacity_tons:real:0.5:40 is_in_service:bool purchased_at:dt purchase_price:money:20000:250000", "|Volvo FH16|Ford Transit|Mercedes Sprinter|Tesla Semi|Isuzu NPR|Scania R500|Toyota Hiace|Iveco Daily"),
        ("driver", "drivers", "depot", "name:person license_class:enum:B,C,CE,D years_licensed:int:1:40 safety_score:real:50:100 is_on_duty:bool hired_at:dt phone:phone hourly_rate:money:15:45", ""),
        ("trip", "trips", "vehicle driver", "trip_code:code:TRP origin_city:title status:enum:planned,in_progress,completed,cancelled distance_km:real:5:1500 departed_at:dt arrived_at:dt toll_cost:money:0:150 is_overnight:bool", "|Hamburg|Lyon|Milan|Rotterdam|Prague|Vienna|Madrid|Warsaw|Porto|Zurich"),
        ("fuel_log", "fuel_logs", "vehicle", "liters:real:10:600 price_per_liter:money:1:3 station_name:title filled_at:dt is_full_tank:bool odometer_reading:int:100:400000 payment_method:enum:card,cash,fleet_account", "|Shell Northgate|BP Harbor|Esso Ring Road|Total A7|Aral Central|Q8 Westside"),
        ("maintenance_record", "maintenance_records", "vehicle", "service_type:enum:oil_change,tires,brakes,inspection,engine,electrical description:text labor_hours:real:0.5:20 parts_cost:money:0:4000 performed_at:dt is_warranty:bool status:enum:scheduled,in_progress,done work_order:code:WO", ""),
        ("incident", "incidents", "user vehicle", "severity:enum:minor,moderate,major,critical occurred_at:dt description:text estimated_damage:money:0:30000 is_reported_to_insurer:bool injuries_count:int:0:4 report_number:code:INC", ""),
    ]),
    ("warehouse", "Warehouse Inventory", "in the warehouse", "picker,supervisor,planner,auditor", [
        ("supplier", "suppliers", "", "name:title country:enum:germany,china,usa,mexico,vietnam,poland lead_time_days:int:2:60 reliability_score:real:1:10 is_preferred:bool contact_email:email since:dt", "Supply Trading Industries Logistics Components Wholesale"),
        ("zone", "zones", "", "name:title temperature_class:enum:ambient,chilled,frozen,hazmat aisle_count:int:2:40 max_weight_tons:real:5:500 is_active:bool", "=Zone"),
        ("product", "products", "supplier", "name:title sku:code:SKU category:enum:electronics,apparel,food,tools,furniture,toys unit_cost:money:1:900 unit_weight_kg:real:0.1:80 reorder_level:int:5:200 is_fragile:bool discontinued_at:dt", "Drill Lamp Jacket Kettle Chair Cable Blender Backpack Monitor Shelf"),
        ("bin_location", "bin_locations", "zone", "label:code:BIN level:int:1:6 capacity_units:int:20:2000 is_pickable:bool bin_type:enum:shelf,pallet,floor,rack last_audited_at:dt", ""),
        ("stock_level", "stock_levels", "product bin_location", "quantity_on_hand:int:0:1500 quantity_reserved:int:0:200 status:enum:ok,low,out,blocked counted_at:dt is_quarantined:bool average_cost:money:1:900", ""),
        ("purchase_order", "purchase_orders", "supplier", "po_number:code:PO status:enum:draft,submitted,confirmed,received,cancelled ordered_at:dt expected_at:dt total_amount:money:100:90000 line_count:int:1:40 is_expedited:bool notes:text", ""),
        ("shipment", "shipments", "user purchase_order", "tracking_number:code:SHP carrier:enum:dhl,ups,fedex,maersk,dpd status:enum:pending,in_transit,delivered,delayed weight_kg:real:1:9000 shipped_at:dt delivered_at:dt freight_cost:money:20:8000 requires_signature:bool", ""),
    ]),
    ("school", "Riverside School", "at the school", "student,teacher,parent,staff", [
        ("teacher", "teachers", "", "name:person subject_area:enum:math,science,english,history,art,music years_teaching:int:1:40 is_department_head:bool salary:money:35000:95000 email:email hired_at:dt", ""),
        ("classroom", "classrooms", "", "name:title building:enum:main,north,south,annex seat_count:int:12:60 has_projector:bool floor_number:int:0:4 area_sq_m:real:30:150", "=Room"),
        ("course", "courses", "teacher", "title:title course_code:code:CRS grade_level:int:6:12 credit_hours:real:0.5:5 difficulty:enum:intro,standard,honors,advanced is_elective:bool syllabus:text starts_at:dt", "Algebra Biology Chemistry Literature Geography Physics Drawing Choir Statistics Robotics"),
        ("student", "students", "user", "name:person student_number:code:STU grade_level:int:6:12 gpa:real:1:4 enrollment_status:enum:active,graduated,withdrawn,suspended is_boarding:bool enrolled_at:dt guardian_phone:phone", ""),
        ("enrollment", "enrollments", "student course", "status:enum:enrolled,completed,dropped,waitlisted enrolled_at:dt final_grade:real:0:100 attendance_rate:real:50:100 is_pass_fail:bool absences:int:0:30", ""),
        ("assignment", "assignments", "course", "title:title assignment_type:enum:homework,quiz,project,exam due_at:dt max_points:int:10:200 weight_percent:real:1:40 allows_late:bool instructions:text", "|Chapter Review|Lab Report|Midterm Exam|Essay Draft|Group Project|Pop Quiz|Reading Log|Final Presentation"),
        ("submission", "submissions", "user assignment", "status:enum:submitted,graded,late,missing submitted_at:dt score:real:0:200 is_resubmission:bool word_count:int:0:5000 feedback:text", ""),
        ("class_session", "class_sessions", "course classroom", "topic:title session_date:dt duration_minutes:int:30:120 status:enum:planned,held,cancelled is_exam_day:bool attendance_count:int:0:40", "|Introduction|Review Day|Guest Speaker|Lab Practice|Field Trip Prep|Quiz Day|Project Work"),
    ]),
    ("gym", "Peak Fitness Gym", "at the gym", "member,trainer,front_desk,manager", [
        ("facility", "facilities", "", "name:title city:enum:austin,denver,portland,boise,tucson opens_at_hour:int:4:8 closes_at_hour:int:20:24 has_pool:bool monthly_rent:money:5000:40000 opened_at:dt", "Fitness Club Athletic Center Strength Studio Wellness Hub"),
        ("trainer", "trainers", "facility", "name:person specialty:enum:strength,yoga,pilates,boxing,cardio,crossfit hourly_rate:money:25:120 rating:real:1:5 is_certified:bool hired_at:dt bio:text", ""),
        ("membership_plan", "membership_plans", "", "name:title tier:enum:basic,standard,premium,student monthly_fee:money:10:150 contract_months:int:1:24 includes_classes:bool guest_passes:int:0:10 description:text", "Flex Core Unlimited Saver Elite Starter"),
        ("membership", "memberships", "user membership_plan", "member_number:code:MEM status:enum:active,paused,cancelled,expired started_at:dt ends_at:dt auto_renew:bool balance_due:money:0:300 visits_count:int:0:400", ""),
        ("fitness_class", "fitness_classes", "facility trainer", "title:title intensity:enum:low,medium,high starts_at:dt duration_minutes:int:30:90 capacity:int:5:40 is_virtual:bool drop_in_price:money:0:35", "|Morning Yoga|HIIT Blast|Spin Express|Power Pilates|Boxing Basics|Core Crusher|Zumba Party|Mobility Flow"),
        ("class_booking", "class_bookings", "user fitness_class", "status:enum:booked,attended,cancelled,no_show booked_at:dt is_waitlisted:bool spot_number:int:1:40 rating_given:real:1:5", ""),
        ("equipment", "equipment_items", "facility", "name:title asset_tag:code:EQ category:enum:cardio,strength,free_weights,accessory condition:enum:new,good,needs_repair,retired purchase_cost:money:50:12000 usage_hours:int:0:9000 is_bookable:bool last_serviced_at:dt", "Treadmill Rower Bike Rack Bench Cable_Machine Elliptical Kettlebell_Set"),
    ]),
    ("restaurant", "Bistro Group", "across the restaurants", "guest,server,chef,manager", [
        ("location", "locations", "", "name:title neighborhood:enum:downtown,harbor,old_town,uptown,midtown seating_capacity:int:20:250 has_patio:bool rating:real:1:5 opened_at:dt phone:phone", "Bistro Kitchen Grill Table Trattoria Cantina"),
        ("menu_item", "menu_items", "location", "name:title course:enum:starter,main,dessert,drink,side price:money:3:65 calories:int:50:1600 is_vegetarian:bool is_available:bool spice_level:int:0:5 description:text", "|Truffle Risotto|Margherita Pizza|Caesar Salad|Beef Burger|Miso Salmon|Tiramisu|Lemon Tart|Mushroom Soup|Lamb Tagine|Iced Tea"),
        ("dining_table", "dining_tables", "location", "table_number:int:1:60 seats:int:2:12 area:enum:indoor,patio,bar,private is_accessible:bool min_spend:money:0:200", ""),
        ("reservation", "reservations", "user dining_table", "confirmation_code:code:RSV party_size:int:1:12 status:enum:requested,confirmed,seated,completed,cancelled reserved_for:dt is_special_occasion:bool deposit:money:0:100 special_requests:text", ""),
        ("customer_order", "customer_orders", "location", "order_number:code:ORD channel:enum:dine_in,takeout,delivery status:enum:open,preparing,served,paid,voided total_amount:money:8:450 tip_amount:money:0:80 item_count:int:1:15 placed_at:dt is_comped:bool", ""),
        ("staff_shift", "staff_shifts", "location", "staff_name:person role:enum:server,cook,host,bartender,dishwasher starts_at:dt hours:real:2:12 hourly_wage:money:12:35 is_overtime:bool", ""),
        ("supplier_delivery", "supplier_deliveries", "location", "vendor_name:title status:enum:expected,received,rejected delivered_at:dt invoice_total:money:50:6000 crate_count:int:1:80 is_refrigerated:bool", "|Green Valley Farms|Ocean Catch|Baker Brothers|Hilltop Dairy|Prime Meats|Spice Route"),
    ]),
    ("hotel", "Grand Stay Hotels", "across the hotel", "guest,receptionist,housekeeper,manager", [
        ("property", "properties", "", "name:title city:enum:lisbon,vienna,boston,kyoto,cape_town star_rating:int:2:5 has_spa:bool room_count:int:20:400 opened_at:dt average_daily_rate:money:60:600", "Hotel Inn Resort Suites Lodge Palace"),
        ("room_type", "room_types", "property", "name:title bed_config:enum:single,double,twin,king,suite max_occupancy:int:1:6 base_rate:money:50:900 size_sq_m:real:12:120 has_balcony:bool description:text", "Deluxe Classic Superior Panorama Garden Executive"),
        ("room", "rooms", "property room_type", "room_number:int:100:999 floor:int:1:20 status:enum:available,occupied,cleaning,maintenance is_smoking:bool last_cleaned_at:dt", ""),
        ("guest", "guests", "user", "name:person email:email loyalty_tier:enum:none,silver,gold,platinum lifetime_nights:int:0:300 is_vip:bool nationality:enum:us,de,fr,jp,br,in,za registered_at:dt", ""),
        ("booking", "bookings", "guest room", "booking_reference:code:BKG status:enum:pending,confirmed,checked_in,checked_out,cancelled check_in_at:dt check_out_at:dt nightly_rate:money:50:900 guest_count:int:1:6 is_prepaid:bool notes:text", ""),
        ("housekeeping_task", "housekeeping_tasks", "room", "task_type:enum:clean,turndown,linen,deep_clean,inspection priority:int:1:5 status:enum:open,in_progress,done scheduled_for:dt minutes_estimated:int:10:120 is_guest_request:bool", ""),
        ("service_charge", "service_charges", "booking", "description:title category:enum:minibar,spa,dining,laundry,parking amount:money:3:400 charged_at:dt is_disputed:bool quantity:int:1:6", "|Room service dinner|Minibar snacks|Deep tissue massage|Valet parking|Laundry bag|Airport transfer|Late checkout"),
    ]),
    ("airline", "SkyBridge Airlines", "in the airline network", "passenger,agent,crew,planner", [
        ("airport", "airports", "", "name:title iata_code:code:AP country:enum:us,uk,de,fr,jp,ae,sg terminal_count:int:1:8 is_hub:bool elevation_m:real:0:2500", "International Regional Field Airport Airfield"),
        ("aircraft", "aircraft", "", "tail_number:code:TN aircraft_type:enum:a320,a350,b737,b787,e190 seat_count:int:70:400 range_km:real:2000:15000 is_active:bool delivered_at:dt flight_hours:int:100:90000", ""),
        ("flight", "flights", "airport aircraft", "flight_number:code:SB status:enum:scheduled,boarding,departed,landed,cancelled,delayed departs_at:dt arrives_at:dt base_fare:money:49:1500 distance_km:real:150:14000 is_international:bool", ""),
        ("passenger", "passengers", "user", "name:person passport_number:code:PP frequent_flyer_tier:enum:none,blue,silver,gold miles_balance:int:0:500000 is_minor:bool date_of_birth:dt email:email", ""),
        ("ticket", "tickets", "passenger flight", "ticket_number:code:TK cabin:enum:economy,premium,business,first fare_paid:money:49:9000 status:enum:issued,checked_in,boarded,refunded seat_label:title is_refundable:bool issued_at:dt", "=Seat"),
        ("baggage", "baggage_items", "ticket", "tag_number:code:BAG weight_kg:real:3:32 status:enum:checked,loaded,arrived,lost,delayed is_oversized:bool fee_paid:money:0:150 checked_at:dt", ""),
        ("crew_member", "crew_members", "airport", "name:person role:enum:captain,first_officer,purser,attendant employee_number:code:CRW flight_hours:int:50:25000 is_on_reserve:bool hired_at:dt", ""),
    ]),
    ("real_estate", "Keystone Realty", "in the property portfolio", "buyer,agent,broker,admin", [
        ("agency_office", "agency_offices", "", "name:title city:enum:seattle,phoenix,atlanta,denver,miami agent_count:int:2:60 is_franchise:bool opened_at:dt phone:phone monthly_costs:money:2000:40000", "Realty Homes Properties Estates Partners"),
        ("agent", "agents", "agency_office", "name:person specialization:enum:residential,commercial,luxury,rental license_number:code:RE commission_rate:real:1:6 years_active:int:0:35 is_top_producer:bool email:email joined_at:dt", ""),
        ("listing", "listings", "agent", "title:title mls_number:code:MLS property_kind:enum:house,condo,townhouse,land,duplex list_price:money:90000:2500000 bedrooms:int:0:7 bathrooms:real:1:5 area_sq_ft:int:400:6000 is_pending:bool listed_at:dt description:text", "|Sunny Craftsman Bungalow|Modern Downtown Loft|Lakefront Cabin|Family Colonial|Corner Lot|Renovated Victorian|Garden Townhome|Hilltop Ranch"),
        ("showing", "showings", "user listing", "status:enum:requested,confirmed,completed,cancelled scheduled_at:dt attendee_count:int:1:6 is_virtual:bool feedback:text interest_level:int:1:5", ""),
        ("offer", "offers", "user listing", "offer_number:code:OFR amount:money:80000:2600000 status:enum:submitted,countered,accepted,rejected,withdrawn submitted_at:dt earnest_money:money:1000:50000 is_cash:bool contingency_days:int:0:45", ""),
        ("open_house", "open_houses", "listing agent", "starts_at:dt duration_hours:real:1:4 visitor_count:int:0:80 status:enum:planned,held,cancelled has_refreshments:bool notes:text", ""),
    ]),
    ("event_venue", "Harborview Events", "at the venue", "attendee,organizer,vendor,admin", [
        ("venue_space", "venue_spaces", "", "name:title space_kind:enum:ballroom,hall,terrace,studio,garden capacity:int:20:1500 hourly_rate:money:100:3000 is_outdoor:bool floor_area_sq_m:real:50:3000", "Ballroom Hall Terrace Pavilion Loft Atrium"),
        ("organizer", "organizers", "", "name:title organizer_kind:enum:company,nonprofit,individual,agency contact_name:person email:email events_hosted:int:0:200 is_verified:bool rating:real:1:5 joined_at:dt", "Productions Collective Society Events Guild"),
        ("event", "events", "organizer venue_space", "title:title category:enum:concert,conference,wedding,exhibition,meetup starts_at:dt ends_at:dt expected_attendance:int:10:1500 base_ticket_price:money:0:300 is_public:bool description:text", "|Jazz Under the Stars|Tech Summit|Spring Wedding Expo|Startup Meetup|Photography Exhibition|Charity Gala|Indie Film Night|Design Conference"),
        ("ticket_tier", "ticket_tiers", "event", "name:title access_level:enum:general,reserved,vip price:money:0:500 quantity_total:int:10:1000 quantity_sold:int:0:900 is_sold_out:bool sales_end_at:dt", "General VIP Early_Bird Student Backstage Balcony"),
        ("registration", "registrations", "user event", "confirmation_code:code:REG status:enum:registered,checked_in,cancelled,refunded registered_at:dt ticket_count:int:1:8 amount_paid:money:0:2000 is_group:bool dietary_notes:text", ""),
        ("vendor_contract", "vendor_contracts", "event", "vendor_name:title service:enum:catering,audio,lighting,security,decor contract_value:money:200:40000 status:enum:draft,signed,fulfilled,cancelled signed_at:dt is_insured:bool staff_count:int:1:40", "|Feast & Co|SoundWave Audio|Bright Lights|SafeGuard Security|Bloom Decor|Urban Catering"),
    ]),
    ("veterinary", "Paws Veterinary Care", "at the veterinary practice", "owner,vet,technician,receptionist", [
        ("pet_owner", "pet_owners", "user", "name:person email:email phone:phone preferred_contact:enum:email,phone,sms is_member:bool registered_at:dt account_balance:money:0:600", ""),
        ("pet", "pets", "pet_owner", "name:title species:enum:dog,cat,rabbit,bird,reptile,ferret breed:title weight_kg:real:0.2:80 is_neutered:bool birth_date:dt microchip_number:code:CHIP", "|Biscuit|Luna|Milo|Pepper|Nala|Rocky|Willow|Ziggy|Coco|Hazel ;; |Labrador|Siamese|Beagle|Holland Lop|Cockatiel|Maine Coon|Corgi|Bearded Dragon"),
        ("veterinarian", "veterinarians", "", "name:person specialty:enum:general,surgery,dentistry,exotics,dermatology years_practice:int:1:40 is_accepting_patients:bool consultation_fee:money:40:250 license_number:code:VET", ""),
        ("visit", "visits", "pet veterinarian", "reason:title status:enum:booked,in_progress,completed,cancelled visit_at:dt weight_recorded_kg:real:0.2:80 total_charge:money:30:1500 is_emergency:bool diagnosis:text", "|Annual wellness exam|Vaccination|Dental cleaning|Limping|Ear infection|Skin allergy|Post-surgery check"),
        ("vaccination", "vaccinations", "pet", "vaccine_name:title dose_number:int:1:4 administered_at:dt next_due_at:dt status:enum:given,due,overdue is_required:bool lot_number:code:LOT", "|Rabies|Distemper|Parvovirus|Bordetella|Leptospirosis|Feline Leukemia"),
        ("treatment", "treatments", "visit", "procedure_name:title category:enum:medication,surgery,therapy,diagnostic cost:money:10:3000 duration_minutes:int:5:240 requires_followup:bool performed_at:dt notes:text", "|X-ray|Blood panel|Tooth extraction|Wound cleaning|Antibiotic course|Ultrasound|Nail trim"),
    ]),
    ("project_management", "TaskFlow Projects", "in the workspace", "member,project_lead,admin,guest", [
        ("team", "teams", "", "name:title focus_area:enum:engineering,design,marketing,sales,operations headcount:int:2:40 is_remote:bool formed_at:dt monthly_budget:money:2000:80000", "Falcons Rockets Builders Pioneers Navigators Makers"),
        ("project", "projects", "team", "name:title project_key:code:PRJ status:enum:planning,active,on_hold,completed,cancelled priority:int:1:5 budget:money:5000:500000 progress_percent:real:0:100 is_confidential:bool due_at:dt description:text", "Migration Redesign Launch Platform Integration Rollout Portal"),
        ("milestone", "milestones", "project", "title:title status:enum:open,reached,missed due_at:dt weight:int:1:10 is_external:bool completion_ratio:real:0:1", "|Alpha Release|Beta Feedback|Design Freeze|Launch Day|Security Review|Go-Live|Data Cutover"),
        ("task", "tasks", "user project", "title:title task_key:code:TSK status:enum:todo,in_progress,in_review,done,blocked priority:enum:low,medium,high,urgent estimate_hours:real:0.5:40 story_points:int:1:13 is_billable:bool due_at:dt description:text", "|Fix login bug|Write API docs|Update dependencies|Design onboarding flow|Add unit tests|Refactor billing module|Set up CI pipeline|Review pull request"),
        ("time_entry", "time_entries", "user task", "hours:real:0.25:10 work_date:dt is_overtime:bool activity:enum:development,meeting,review,research,support hourly_cost:money:20:150 comment:text", ""),
        ("task_comment", "task_comments", "user task", "author_name:person message:text is_internal:bool posted_at:dt reaction_count:int:0:30 kind:enum:comment,question,decision", ""),
        ("sprint", "sprints", "project", "name:title state:enum:future,active,closed starts_at:dt ends_at:dt committed_points:int:5:120 velocity:real:0:120 is_release_sprint:bool", "=Sprint"),
    ]),
    ("online_store", "Maple Market", "in the store", "shopper,seller,support,admin", [
        ("category", "categories", "", "name:title slug:code:CAT visibility:enum:public,hidden,seasonal display_order:int:1:50 is_featured:bool commission_rate:real:2:20 description:text", "Electronics Kitchen Garden Outdoors Toys Books Beauty Sports"),
        ("seller", "sellers", "", "name:title rating:real:1:5 total_sales:int:0:90000 is_verified:bool country:enum:us,uk,de,ca,au joined_at:dt support_email:email", "Goods Outlet Depot Traders Emporium Store"),
        ("product", "products", "category seller", "name:title sku:code:SKU price:money:2:1500 stock_quantity:int:0:900 average_rating:real:1:5 condition:enum:new,refurbished,used is_prime:bool listed_at:dt description:text", "Headphones Blender Tent Backpack Lamp Sneakers Keyboard Watch Skillet Puzzle"),
        ("cart_item", "cart_items", "user product", "quantity:int:1:10 added_at:dt is_saved_for_later:bool unit_price:money:2:1500 gift_wrap:enum:none,basic,premium", ""),
        ("customer_order", "customer_orders", "user", "order_number:code:ORD status:enum:pending,paid,shipped,delivered,cancelled,returned order_total:money:5:5000 item_count:int:1:20 placed_at:dt shipping_method:enum:standard,express,pickup is_gift:bool", ""),
        ("order_line", "order_lines", "customer_order product", "quantity:int:1:10 unit_price:money:2:1500 discount_percent:real:0:50 is_backordered:bool fulfillment_status:enum:pending,packed,shipped,returned", ""),
        ("product_review", "product_reviews", "user product", "rating:int:1:5 headline:title review_text:text is_verified_purchase:bool helpful_votes:int:0:500 posted_at:dt status:enum:published,pending,hidden", "|Great value|Stopped working|Exactly as described|Would buy again|Too small|Excellent quality|Fast shipping"),
    ]),
    ("car_rental", "DriveNow Rentals", "in the rental network", "renter,agent,mechanic,manager", [
        ("branch_office", "branch_offices", "", "name:title city:enum:dallas,orlando,chicago,san_diego,las_vegas is_airport:bool opens_at_hour:int:5:9 parking_spots:int:20:400 opened_at:dt", "Rentals Auto_Center Car_Hub Station"),
        ("car", "cars", "branch_office", "plate_number:code:CAR make_model:title car_class:enum:economy,compact,midsize,suv,luxury,van daily_rate:money:25:300 mileage_km:int:100:150000 is_available:bool seats:int:2:9 fuel_level:real:0:1 registered_at:dt", "|Toyota Corolla|Honda Civic|Ford Escape|BMW 3 Series|Kia Carnival|Tesla Model 3|Jeep Wrangler|VW Golf"),
        ("customer", "customers", "user", "name:person driver_license:code:DL license_country:enum:us,ca,mx,uk,de age:int:21:80 is_blacklisted:bool loyalty_points:int:0:20000 email:email joined_at:dt", ""),
        ("rental_agreement", "rental_agreements", "customer car", "agreement_number:code:RA status:enum:reserved,active,returned,cancelled pickup_at:dt return_due_at:dt total_charge:money:30:5000 insurance_option:enum:none,basic,full has_child_seat:bool odometer_start:int:100:150000", ""),
        ("damage_report", "damage_reports", "rental_agreement", "severity:enum:scratch,dent,broken_glass,mechanical repair_estimate:money:50:9000 reported_at:dt is_customer_liable:bool description:text photos_count:int:0:12", ""),
        ("service_visit", "service_visits", "car", "service_kind:enum:oil,tires,brakes,cleaning,inspection cost:money:20:2500 performed_at:dt downtime_hours:real:0.5:72 is_recall:bool notes:text", ""),
    ]),
    ("museum", "Heritage Museum", "in the museum", "visitor,curator,docent,admin", [
        ("gallery", "galleries", "", "name:title wing:enum:east,west,north,south floor:int:0:4 climate_controlled:bool capacity:int:20:400 opened_at:dt", "Gallery Hall Rotunda Courtyard Wing"),
        ("artist", "artists", "", "name:person nationality:enum:french,dutch,japanese,mexican,american,italian birth_year:int:1400:1995 is_living:bool biography:text", ""),
        ("artwork", "artworks", "artist gallery", "title:title accession_number:code:ACC medium:enum:oil,watercolor,sculpture,photograph,textile,ceramic year_created:int:1450:2023 insured_value:money:1000:9000000 height_cm:real:10:500 is_on_display:bool acquired_at:dt description:text", "Portrait Landscape Still_Life Study Nocturne Harbor Dancer Garden"),
        ("exhibition", "exhibitions", "gallery", "title:title theme:enum:modern,classical,photography,sculpture,textiles opens_at:dt closes_at:dt ticket_surcharge:money:0:30 is_touring:bool expected_visitors:int:500:90000", "|Light and Shadow|Masters of the North|Forms in Motion|The Quiet Room|Colors of Mexico|Paper Worlds"),
        ("conservation_job", "conservation_jobs", "artwork", "job_number:code:CJ treatment:enum:cleaning,repair,reframing,analysis status:enum:queued,in_progress,completed estimated_hours:real:1:400 cost:money:100:80000 started_at:dt is_urgent:bool notes:text", ""),
        ("tour_booking", "tour_bookings", "user exhibition", "group_size:int:1:40 status:enum:requested,confirmed,completed,cancelled tour_at:dt language:enum:english,spanish,french,german,japanese is_school_group:bool amount_paid:money:0:600", ""),
    ]),
    ("farm", "Green Acres Farm", "on the farm", "farmhand,agronomist,buyer,manager", [
        ("farm_field", "farm_fields", "", "name:title soil_type:enum:clay,loam,sand,silt area_hectares:real:0.5:200 is_irrigated:bool last_tilled_at:dt slope_percent:real:0:15", "Field Meadow Plot Pasture Terrace Orchard"),
        ("crop", "crops", "", "name:title family:enum:grain,legume,vegetable,fruit,forage days_to_maturity:int:30:220 seed_cost_per_kg:money:1:90 is_perennial:bool water_need:enum:low,medium,high", "|Winter Wheat|Sweet Corn|Soybean|Alfalfa|Potato|Tomato|Barley|Sunflower|Strawberry"),
        ("planting", "plantings", "farm_field crop", "planted_at:dt expected_harvest_at:dt seed_kg:real:5:3000 status:enum:planned,growing,harvested,failed is_organic:bool row_count:int:4:400", ""),
        ("harvest", "harvests", "planting", "harvested_at:dt yield_kg:real:100:90000 quality_grade:enum:a,b,c,reject moisture_percent:real:8:30 is_sold:bool sale_price:money:0:120000 crew_size:int:1:30", ""),
        ("livestock_animal", "livestock_animals", "farm_field", "tag_number:code:TAG species:enum:cattle,sheep,goat,pig,chicken weight_kg:real:1:900 is_pregnant:bool born_at:dt health_status:enum:healthy,sick,quarantined,sold market_value:money:10:4000", ""),
        ("equipment_log", "equipment_logs", "user farm_field", "machine:enum:tractor,combine,sprayer,seeder,baler hours_used:real:0.5:14 fuel_liters:real:1:400 used_at:dt needs_service:bool operator_note:text", ""),
    ]),
    ("cinema", "Starlight Cinemas", "at the cinema", "moviegoer,usher,projectionist,manager", [
        ("auditorium", "auditoriums", "", "name:title screen_type:enum:standard,imax,dolby,3d seat_count:int:40:500 has_recliners:bool screen_width_m:real:8:30", "=Screen"),
        ("movie", "movies", "", "title:title rating_code:enum:g,pg,pg13,r genre:enum:action,comedy,drama,horror,animation,documentary runtime_minutes:int:75:200 critic_score:real:0:100 is_3d:bool released_at:dt synopsis:text", "Horizon Echo Shadow Midnight Paradise Frontier Galaxy Whisper Storm Legacy"),
        ("showtime", "showtimes", "movie auditorium", "starts_at:dt ticket_price:money:6:25 seats_sold:int:0:450 language:enum:original,dubbed,subtitled is_premiere:bool status:enum:scheduled,selling,sold_out,cancelled", ""),
        ("ticket_sale", "ticket_sales", "user showtime", "order_code:code:TIX seat_count:int:1:10 total_price:money:6:250 purchased_at:dt payment_method:enum:card,cash,gift_card,app is_refunded:bool", ""),
        ("concession_item", "concession_items", "", "name:title category:enum:snack,drink,combo,candy price:money:1:20 calories:int:50:1500 is_available:bool stock_units:int:0:500", "|Large Popcorn|Nachos|Soda Cup|Hot Dog|Candy Mix|Ice Cream|Family Combo|Pretzel"),
        ("concession_sale", "concession_sales", "user concession_item", "quantity:int:1:8 amount:money:1:120 sold_at:dt is_combo_upgrade:bool payment_method:enum:card,cash,app", ""),
    ]),
    ("recruiting", "TalentBridge Recruiting", "in the hiring pipeline", "candidate,recruiter,hiring_manager,admin", [
        ("company", "companies", "", "name:title industry:enum:software,finance,health,retail,manufacturing employee_count:int:10:50000 is_client:bool rating:real:1:5 founded_at:dt", "Systems Labs Dynamics Partners Works Networks"),
        ("job_opening", "job_openings", "company", "title:title requisition_code:code:REQ department:enum:engineering,sales,marketing,finance,operations employment_kind:enum:full_time,part_time,contract salary_min:money:30000:150000 salary_max:money:60000:250000 is_remote:bool openings:int:1:10 posted_at:dt description:text", "|Backend Engineer|Product Designer|Account Executive|Data Analyst|QA Engineer|Marketing Manager|Financial Analyst|Support Specialist"),
        ("candidate", "candidates", "", "name:person email:email years_experience:int:0:30 current_title:title expected_salary:money:30000:250000 is_open_to_relocate:bool source:enum:referral,job_board,linkedin,agency,career_fair applied_at:dt", "|Software Engineer|Designer|Sales Rep|Analyst|Consultant|Teacher|Nurse"),
        ("application", "applications", "candidate job_opening", "stage:enum:applied,screening,interview,offer,hired,rejected submitted_at:dt match_score:real:0:100 is_referral:bool cover_letter:text", ""),
        ("interview", "interviews", "user application", "round_number:int:1:5 interview_format:enum:phone,video,onsite,take_home scheduled_at:dt duration_minutes:int:15:240 score:real:1:5 is_final_round:bool interviewer_notes:text", ""),
        ("job_offer", "job_offers", "application", "offer_code:code:OFF base_salary:money:30000:300000 signing_bonus:money:0:50000 status:enum:draft,extended,accepted,declined,expired extended_at:dt start_date:dt is_negotiable:bool", ""),
    ]),
    ("logistics", "ParcelPoint Logistics", "in the delivery network", "customer,courier,dispatcher,admin", [
        ("hub", "hubs", "", "name:title region:enum:north,south,east,west,central sorting_capacity:int:500:90000 is_automated:bool opened_at:dt dock_count:int:2:60", "Hub Sort_Center Depot Gateway"),
        ("courier", "couriers", "hub", "name:person vehicle_kind:enum:bike,scooter,van,truck deliveries_completed:int:0:20000 rating:real:1:5 is_active:bool hired_at:dt phone:phone", ""),
        ("parcel", "parcels", "user hub", "tracking_code:code:PCL status:enum:created,in_transit,out_for_delivery,delivered,returned weight_kg:real:0.1:40 declared_value:money:0:3000 service_level:enum:standard,express,same_day is_fragile:bool ship_by_at:dt recipient_name:person", ""),
        ("delivery_route", "delivery_routes", "courier", "route_code:code:RT status:enum:planned,active,finished stop_count:int:3:80 distance_km:real:5:250 started_at:dt is_weekend:bool fuel_cost:money:0:200", ""),
        ("delivery_attempt", "delivery_attempts", "parcel delivery_route", "attempt_number:int:1:3 outcome:enum:delivered,not_home,refused,address_issue attempted_at:dt signature_captured:bool note:text", ""),
        ("pickup_request", "pickup_requests", "user hub", "status:enum:requested,scheduled,picked_up,cancelled requested_for:dt parcel_count:int:1:25 total_weight_kg:real:0.5:400 is_recurring:bool fee:money:0:90 instructions:text", ""),
    ]),
    ("bank", "Northwind Bank", "at the bank", "customer,teller,advisor,auditor", [
        ("branch_office", "branch_offices", "", "name:title city:enum:boston,seattle,austin,chicago,miami has_atm:bool staff_count:int:3:80 opened_at:dt deposits_total:money:100000:90000000", "Branch Financial_Center Plaza Office"),
        ("account", "accounts", "user branch_office", "account_number:code:ACC account_kind:enum:checking,savings,money_market,cd balance:money:0:250000 interest_rate:real:0:5 is_frozen:bool opened_at:dt overdraft_limit:money:0:2000", ""),
        ("transaction_record", "transaction_records", "account", "reference:code:TXN direction:enum:debit,credit channel:enum:atm,online,branch,card,wire amount:money:1:20000 posted_at:dt is_disputed:bool merchant:title", "|Grocery Mart|City Utilities|Coffee Corner|Online Books|Fuel Stop|Rent Payment|Payroll Deposit|Gym Membership"),
        ("card", "cards", "account", "card_number_last4:int:1000:9999 network:enum:visa,mastercard,amex status:enum:active,locked,expired,cancelled daily_limit:money:200:10000 is_contactless:bool expires_at:dt", ""),
        ("loan_application", "loan_applications", "user branch_office", "application_number:code:LA product:enum:mortgage,auto,personal,student amount_requested:money:1000:900000 term_months:int:6:360 credit_score:int:300:850 status:enum:submitted,under_review,approved,declined submitted_at:dt is_joint:bool purpose:text", ""),
        ("scheduled_payment", "scheduled_payments", "account", "payee:title amount:money:5:5000 frequency:enum:once,weekly,monthly,quarterly next_run_at:dt is_active:bool remaining_runs:int:0:60", "|Landlord LLC|Power Company|Water Utility|Car Loan|Insurance Co|Internet Provider|Savings Transfer"),
    ]),
    ("hr", "PeopleHub HR", "in the organization", "employee,manager,hr_partner,admin", [
        ("department", "departments", "", "name:title cost_center:code:CC division:enum:corporate,product,field,operations headcount_budget:int:2:300 annual_budget:money:50000:9000000 is_revenue_generating:bool created_on:dt", "Engineering Finance People Legal Support Sales Research"),
        ("employee", "employees", "department", "name:person employee_number:code:EMP job_level:enum:junior,mid,senior,lead,principal salary:money:30000:250000 is_remote:bool hired_at:dt performance_score:real:1:5 email:email", ""),
        ("leave_request", "leave_requests", "user employee", "leave_kind:enum:vacation,sick,parental,unpaid,bereavement status:enum:pending,approved,rejected,cancelled starts_on:dt ends_on:dt days_requested:real:0.5:60 is_paid:bool reason:text", ""),
        ("performance_review", "performance_reviews", "employee", "cycle:enum:h1,h2,annual rating:real:1:5 status:enum:draft,submitted,acknowledged submitted_at:dt promotion_recommended:bool goals_met:int:0:10 summary:text", ""),
        ("training_course", "training_courses", "", "title:title delivery:enum:online,classroom,blended duration_hours:real:0.5:40 cost_per_seat:money:0:3000 is_mandatory:bool seats:int:5:200 available_from:dt", "|Security Awareness|Leadership Basics|Advanced Excel|Inclusive Hiring|First Aid|Negotiation Skills|Python for Analysts"),
        ("training_enrollment", "training_enrollments", "employee training_course", "status:enum:enrolled,in_progress,completed,dropped enrolled_at:dt completion_percent:real:0:100 is_manager_assigned:bool score:int:0:100", ""),
        ("expense_claim", "expense_claims", "user employee", "claim_number:code:EXP category:enum:travel,meals,equipment,software,training amount:money:5:8000 status:enum:submitted,approved,rejected,paid submitted_at:dt has_receipt:bool description:text", ""),
    ]),
    ("property_management", "Oakridge Property Management", "in the managed buildings", "tenant,property_manager,technician,owner", [
        ("building", "buildings", "", "name:title city:enum:portland,raleigh,madison,boise,omaha floors:int:1:40 year_built:int:1900:2023 has_elevator:bool occupancy_rate:real:40:100 acquired_at:dt", "Towers Apartments Residences Commons Place Lofts"),
        ("unit", "units", "building", "unit_number:int:100:4000 bedrooms:int:0:4 area_sq_ft:int:350:2500 monthly_rent:money:700:6000 status:enum:vacant,occupied,renovation is_furnished:bool available_from:dt", ""),
        ("tenant", "tenants", "user", "name:person email:email phone:phone screening_status:enum:pending,approved,declined credit_score:int:450:850 has_pet:bool moved_in_at:dt employer:title", "|Acme Corp|City Hospital|State University|Blue Bank|Metro Transit|Self-employed"),
        ("lease", "leases", "unit tenant", "lease_number:code:LSE status:enum:draft,active,ended,terminated starts_at:dt ends_at:dt monthly_rent:money:700:6000 security_deposit:money:500:9000 auto_renew:bool", ""),
        ("rent_payment", "rent_payments", "lease", "amount:money:100:6000 paid_at:dt method:enum:ach,card,check,cash status:enum:pending,cleared,bounced late_fee:money:0:200 is_partial:bool", ""),
        ("work_order", "work_orders", "user unit", "ticket_number:code:WO category:enum:plumbing,electrical,hvac,appliance,pest priority:enum:low,normal,high,emergency status:enum:open,assigned,in_progress,resolved opened_at:dt estimated_cost:money:0:5000 requires_entry:bool description:text", ""),
    ]),
    ("travel_agency", "Wanderlust Travel", "in the travel catalog", "traveler,agent,guide,admin", [
        ("destination", "destinations", "", "name:title continent:enum:europe,asia,africa,americas,oceania climate:enum:tropical,temperate,arid,alpine average_daily_cost:money:30:500 safety_index:real:1:10 is_visa_free:bool", "|Kyoto|Lisbon|Cusco|Reykjavik|Zanzibar|Queenstown|Marrakesh|Hanoi|Cape Town|Dubrovnik"),
        ("tour_package", "tour_packages", "destination", "title:title package_code:code:PKG duration_days:int:2:21 price_per_person:money:200:9000 difficulty:enum:easy,moderate,challenging max_group_size:int:4:40 includes_flights:bool departs_at:dt description:text", "|Temple Trail|Coastal Escape|Mountain Trek|Food Safari|Island Hopper|Desert Nights|Northern Lights Quest"),
        ("traveler", "travelers", "user", "name:person passport_country:enum:us,uk,de,fr,ca,au,jp email:email trips_taken:int:0:60 is_frequent:bool date_of_birth:dt dietary_preference:enum:none,vegetarian,vegan,halal,kosher", ""),
        ("trip_booking", "trip_bookings", "traveler tour_package", "booking_code:code:TB status:enum:quoted,booked,paid,completed,cancelled traveler_count:int:1:8 total_price:money:200:60000 booked_at:dt has_insurance:bool special_requests:text", ""),
        ("guide", "guides", "destination", "name:person specialty:enum:history,nature,food,adventure,art languages_spoken:int:1:6 rating:real:1:5 daily_rate:money:50:600 is_licensed:bool years_guiding:int:0:40 bio:text", ""),
        ("itinerary_day", "itinerary_days", "tour_package", "day_number:int:1:21 title:title overnight_location:title meals_included:int:0:3 is_free_day:bool activity_level:enum:rest,light,moderate,intense", "|Arrival and Welcome Dinner|City Walking Tour|Market Visit|Hike to the Viewpoint|Cooking Class|Free Day|Boat Excursion|Departure ;; |Old Town Guesthouse|Riverside Lodge|Mountain Hut|Desert Camp|Harbor Hotel|Village Homestay"),
    ]),
    ("help_desk", "ServiceDesk Support", "in the support desk", "customer,agent,team_lead,admin", [
        ("support_team", "support_teams", "", "name:title channel_focus:enum:email,chat,phone,social agent_count:int:2:60 is_24x7:bool target_response_minutes:int:5:240 launched_at:dt", "Tier1 Tier2 Billing Onboarding Escalations Enterprise"),
        ("agent", "agents", "support_team", "name:person email:email skill_level:enum:trainee,standard,senior,expert csat_score:real:1:5 is_available:bool tickets_closed:int:0:9000 hired_at:dt", ""),
        ("ticket", "tickets", "user agent", "ticket_number:code:TKT subject:title status:enum:new,open,pending,solved,closed priority:enum:low,normal,high,urgent channel:enum:email,chat,phone,web opened_at:dt first_response_minutes:int:1:2000 is_escalated:bool description:text", "|Cannot log in|Refund request|Billing discrepancy|Feature question|App crashes on start|Password reset|Shipping delay|Account locked"),
        ("ticket_reply", "ticket_replies", "user ticket", "author_name:person message:text is_public:bool posted_at:dt attachment_count:int:0:5 sentiment:enum:positive,neutral,negative", ""),
        ("knowledge_article", "knowledge_articles", "support_team", "title:title slug:code:KB status:enum:draft,published,archived view_count:int:0:90000 helpful_ratio:real:0:1 is_internal:bool published_at:dt article_text:text", "|Resetting your password|Updating billing details|Exporting your data|Two-factor setup|Cancelling a subscription|Troubleshooting sync"),
        ("sla_policy", "sla_policies", "support_team", "name:title priority:enum:low,normal,high,urgent first_response_minutes:int:5:1440 resolution_hours:int:1:240 is_business_hours_only:bool penalty_amount:money:0:5000", "Standard Premium Enterprise Critical Basic"),
    ]),
    ("music_school", "Harmony Music School", "at the music school", "student,instructor,parent,admin", [
        ("studio", "studios", "", "name:title room_kind:enum:practice,ensemble,recording,teaching has_piano:bool soundproofed:bool capacity:int:1:30 hourly_rate:money:10:90 area_sq_m:real:8:120", "=Studio"),
        ("instructor", "instructors", "", "name:person instrument:enum:piano,guitar,violin,drums,voice,cello rate_per_lesson:money:25:150 rating:real:1:5 is_accepting_students:bool years_teaching:int:1:45 joined_at:dt", ""),
        ("music_student", "music_students", "user", "name:person skill_level:enum:beginner,intermediate,advanced,pro age:int:5:80 is_minor:bool practice_minutes_weekly:int:0:900 enrolled_at:dt guardian_email:email", ""),
        ("lesson", "lessons", "music_student instructor studio", "scheduled_at:dt duration_minutes:int:30:90 status:enum:booked,completed,cancelled,rescheduled price:money:20:200 is_trial:bool lesson_notes:text", ""),
        ("recital", "recitals", "studio", "title:title held_at:dt performer_count:int:2:40 ticket_price:money:0:40 is_public:bool theme:enum:classical,jazz,pop,mixed", "|Spring Showcase|Winter Recital|Jazz Evening|Young Virtuosos|Summer Concert|Piano Marathon"),
        ("instrument_rental", "instrument_rentals", "music_student", "instrument:enum:violin,cello,guitar,keyboard,trumpet,flute serial_number:code:SN monthly_fee:money:10:120 started_at:dt condition:enum:new,good,fair insurance_included:bool months_committed:int:1:24", ""),
    ]),
    ("coworking", "HiveSpace Coworking", "in the coworking network", "member,host,community_manager,admin", [
        ("space_location", "space_locations", "", "name:title city:enum:berlin,london,amsterdam,barcelona,dublin desk_count:int:20:400 has_parking:bool opened_at:dt monthly_rent:money:10000:200000 rating:real:1:5", "Hive Loft Works Commons Hub Yard"),
        ("meeting_room", "meeting_rooms", "space_location", "name:title capacity:int:2:30 hourly_rate:money:10:150 has_video_conf:bool floor:int:0:12 status:enum:available,maintenance,retired", "Boardroom Huddle Focus Studio Garden Skyline"),
        ("member_company", "member_companies", "", "name:title industry:enum:tech,design,media,consulting,nonprofit seats_contracted:int:1:80 is_enterprise:bool joined_at:dt monthly_bill:money:200:40000", "Labs Studio Collective Ventures Digital Partners"),
        ("membership_contract", "membership_contracts", "member_company space_location", "contract_number:code:CON plan:enum:hot_desk,dedicated_desk,private_office,virtual status:enum:active,notice,ended starts_at:dt ends_at:dt monthly_price:money:100:30000 includes_mail:bool seat_count:int:1:80", ""),
        ("room_booking", "room_bookings", "user meeting_room", "title:title starts_at:dt duration_hours:real:0.5:8 attendee_count:int:1:30 status:enum:confirmed,cancelled,completed needs_catering:bool cost:money:0:1200", "|Sprint Planning|Client Pitch|Board Meeting|Interview|Team Retro|Workshop|Investor Call"),
        ("community_event", "community_events", "space_location", "title:title category:enum:networking,talk,workshop,social starts_at:dt rsvp_count:int:0:200 is_members_only:bool budget:money:0:5000 description:text", "|Friday Drinks|Founder Talk|Design Sprint 101|Pitch Night|Yoga Break|Breakfast Club"),
    ]),
]
# fmt: on


DOMAINS: tuple[str, ...] = tuple(d[0] for d in _DOMAINS)

_ADJECTIVES = (
    "Silver",
    "Northern",
    "Harbor",
    "Maple",
    "Summit",
    "Golden",
    "Riverside",
    "Cedar",
    "Willow",
    "Crescent",
    "Granite",
    "Sunny",
    "Quiet",
    "Bright",
    "Evergreen",
    "Lakeside",
    "Highland",
    "Coastal",
    "Meadow",
    "Pioneer",
    "Aurora",
    "Beacon",
    "Crimson",
    "Juniper",
    "Oak",
    "Pine",
    "Prairie",
    "Redwood",
    "Sterling",
    "Union",
    "Copper",
    "Ivory",
    "Hidden",
    "Royal",
    "Wild",
)
_FIRST = (
    "Alice",
    "Bruno",
    "Chen",
    "Dana",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Samir",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Liam",
    "Maya",
    "Noah",
    "Ava",
    "Ethan",
    "Sofia",
)
_LAST = (
    "Anderson",
    "Becker",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Johnson",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "O'Brien",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Wright",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Okafor",
    "Silva",
)
_SENTENCES = (
    "Checked during the last quarterly review.",
    "Needs a follow-up before the end of the month.",
    "Recorded by the front desk team.",
    "Customer asked for an update by email.",
    "Priority item for the operations lead.",
    "Imported from the previous system.",
    "Reviewed and approved by the manager.",
    "Flagged for a second opinion.",
    "Details confirmed over the phone.",
    "Scheduled to be revisited next season.",
    "Documented with photos in the shared drive.",
    "Mentioned in the weekly status meeting.",
    "Handled according to the standard procedure.",
    "Waiting on paperwork from a third party.",
    "Popular choice among regular visitors.",
    "Minor issue noted, no action required.",
)
# Optional columns sprinkled over entities so that two scenarios of one domain differ.
_EXTRAS = (
    "priority_rank:int:1:5",
    "is_archived:bool",
    "internal_notes:text",
    "reviewed_at:dt",
    "quality_score:real:0:100",
    "external_ref:code:EXT",
    "color_tag:enum:red,blue,green,amber,gray",
    "revision:int:1:12",
    "is_flagged:bool",
    "region_code:enum:na,emea,apac,latam",
)
_RESERVED = {
    "id",
    "created_at",
    "updated_at",
    "user_id",
    "session",
    "base_query",
    "rows",
    "row",
    "total",
    "items",
    "limit",
    "offset",
    "q",
    "term",
    "body",
    "updates",
    "now",
    "metric",
    "days",
    "ids",
    "search_fields",
    "sort_by",
    "sort_order",
    "ascending",
    "min_count",
    "parent",
    "existing",
    "cutoff",
    "json",
    "copy",
    "dict",
    "schema",
    "fields",
    "validate",
    "construct",
    "field_name",
    "value",
    "groups",
    "result",
    "counts",
    "missing_ids",
    "updated_count",
    "found_ids",
    "key",
    "count",
    "column",
    "record",
    "pattern",
    "position",
    "ordering",
    "allowed",
    "previous",
    "changes",
    "chosen",
    "unknown",
    "conditions",
    "searchable",
    "clash",
    "current",
    "updated",
    "created",
    "replaced",
    "patched",
    "changed",
    "flagged",
    "grouped",
    "value_id",
    "order_column",
    "sort_columns",
    "metric_columns",
    "non_nullable",
    "deleted_for",
    "flag_name",
    "flag_value",
    "new_value",
    "rank",
}
# Names the generated module defines or imports: an entity class must not reuse them.
_TAKEN_CLASSES = {
    "FastAPI",
    "HTTPException",
    "Query",
    "Path",
    "Body",
    "BaseModel",
    "Field",
    "ConfigDict",
    "Optional",
    "List",
    "Dict",
    "Column",
    "Integer",
    "String",
    "Text",
    "Float",
    "Boolean",
    "DateTime",
    "ForeignKey",
    "Index",
    "Base",
    "SessionLocal",
    "User",
    "CurrentUser",
}

_SQL_TYPE = {
    "title": "TEXT",
    "person": "TEXT",
    "text": "TEXT",
    "enum": "TEXT",
    "code": "TEXT",
    "email": "TEXT",
    "phone": "TEXT",
    "uname": "TEXT",
    "uemail": "TEXT",
    "int": "INTEGER",
    "fk": "INTEGER",
    "real": "REAL",
    "money": "REAL",
    "bool": "BOOLEAN",
    "dt": "DATETIME",
    "ts": "DATETIME",
}
_PY_TYPE = {"TEXT": "str", "INTEGER": "int", "REAL": "float", "BOOLEAN": "bool", "DATETIME": "datetime"}
_SPEC_TYPE = {"TEXT": "string", "INTEGER": "integer", "REAL": "float", "BOOLEAN": "boolean", "DATETIME": "string"}
_ORM_TYPE = {"TEXT": "String", "INTEGER": "Integer", "REAL": "Float", "BOOLEAN": "Boolean", "DATETIME": "DateTime"}


class _Sql(str):
    """A raw SQL expression in an INSERT (e.g. ``datetime('now', '-3 days')``)."""


def _rng(seed: int, index: int) -> random.Random:
    digest = hashlib.sha256(f"awm-ray-synthetic:{seed}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _human(name: str) -> str:
    return name.replace("_", " ")


def _a(noun: str) -> str:
    """Noun with its indefinite article."""
    lower = noun.lower()
    vowel = lower[:1] in "aeiou" and not lower.startswith(("user", "uni", "use", "eu", "one"))
    return ("an " if vowel else "a ") + noun


def _py(value: Any) -> str:
    """Python source literal for a JSON-like value."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def _sql_literal(value: Any) -> str:
    if isinstance(value, _Sql):
        return str(value)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# --------------------------------------------------------------------------------------------
# Schema model


class _Col:
    def __init__(self, name: str, kind: str, args: tuple[str, ...] = (), words: str = "") -> None:
        self.name = name
        self.kind = kind
        self.choices: tuple[str, ...] = ()
        self.lo: float = 0
        self.hi: float = 0
        self.prefix = ""
        self.ref: _Table | None = None
        self.words = words
        if kind == "enum":
            self.choices = tuple(args[0].split(","))
        elif kind == "int":
            self.lo, self.hi = int(args[0]), int(args[1])
        elif kind in ("real", "money"):
            self.lo, self.hi = float(args[0]), float(args[1])
        elif kind == "code":
            self.prefix = args[0]
        self.sql = _SQL_TYPE[kind]
        self.py = _PY_TYPE[self.sql]
        self.stype = _SPEC_TYPE[self.sql]
        self.nullable = kind in ("text", "dt", "email", "phone", "ts")
        self.unique = kind in ("code", "uname", "uemail")

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "real", "money")

    @property
    def searchable(self) -> bool:
        return self.kind in ("title", "person", "text", "code", "email", "uname", "uemail")

    @property
    def ann(self) -> str:
        return f"Optional[{self.py}]" if self.nullable else self.py


class _Table:
    def __init__(self, name: str, singular: str, cols: list[_Col], parents: list["_Table"], owned: bool) -> None:
        self.name = name
        self.singular = singular
        self.cls = _camel(singular)
        self.hs = _human(singular)
        self.hp = _human(name)
        self.slug = name.replace("_", "-")
        self.cols = cols  # without id
        self.parents = parents  # non-user parents, in FK order
        self.owned = owned
        self.rows: list[dict[str, Any]] = []
        labels = [c for c in cols if c.kind in ("title", "person", "code", "uname")]
        self.label = labels[0]
        self.indexes: list[tuple[str, list[str], bool]] = []

    @property
    def id_param(self) -> str:
        return f"{self.singular}_id"

    def data_cols(self) -> list[_Col]:
        return [c for c in self.cols if c.kind not in ("fk", "ts")]

    def fk_cols(self) -> list[_Col]:
        return [c for c in self.cols if c.kind == "fk"]

    def writable(self, skip: tuple[str, ...] = ()) -> list[_Col]:
        out = []
        for c in self.cols:
            if c.kind == "ts" or c.name in skip:
                continue
            if c.kind == "fk" and c.name == "user_id" and self.owned:
                continue
            out.append(c)
        return out

    def of(self, kind: str) -> list[_Col]:
        return [c for c in self.data_cols() if c.kind == kind]

    def numerics(self) -> list[_Col]:
        return [c for c in self.data_cols() if c.numeric]

    def ids(self) -> list[int]:
        return [r["id"] for r in self.rows]


# --------------------------------------------------------------------------------------------
# Value generation


class _Values:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used_titles: dict[tuple[str, str], set[str]] = {}
        self.used_codes: set[str] = set()
        self.fresh_counter = 0

    def person(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"

    def title(self, table: _Table, col: _Col) -> str:
        rng = self.rng
        used = self.used_titles.setdefault((table.name, col.name), set())
        spec = col.words.strip()
        for _ in range(30):
            if spec.startswith("|"):
                phrases = [p.strip() for p in spec.split("|") if p.strip()]
                value = rng.choice(phrases)
            elif spec.startswith("="):
                value = f"{rng.choice(spec[1:].split())} {rng.randint(1, 60) * 10 + rng.randint(0, 9)}"
            elif spec:
                value = f"{rng.choice(_ADJECTIVES)} {rng.choice(spec.split()).replace('_', ' ')}"
            else:
                value = f"{rng.choice(_ADJECTIVES)} {table.hs.title()}"
            if value not in used:
                break
        used.add(value)
        return value

    def code(self, col: _Col) -> str:
        while True:
            value = f"{col.prefix}-{self.rng.randint(10000, 89999)}"
            if value not in self.used_codes:
                self.used_codes.add(value)
                return value

    def fresh_code(self, col: _Col) -> str:
        self.fresh_counter += 1
        return f"{col.prefix}-{90000 + self.fresh_counter * 7 + self.rng.randint(0, 6)}"

    def number(self, col: _Col) -> Any:
        rng = self.rng
        if col.kind == "int":
            return rng.randint(int(col.lo), int(col.hi))
        digits = 2 if col.kind == "money" or col.hi <= 1 else 1
        return round(rng.uniform(col.lo, col.hi), digits)

    def literal_dt(self) -> str:
        rng = self.rng
        return (
            f"{rng.randint(2023, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
            f"{rng.randint(7, 20):02d}:{rng.choice((0, 15, 30, 45)):02d}:00"
        )

    def iso_dt(self) -> str:
        return self.literal_dt().replace(" ", "T")

    def sample(self, table: _Table, col: _Col, person: str) -> Any:
        rng = self.rng
        kind = col.kind
        if kind == "title":
            return self.title(table, col)
        if kind == "person":
            return person if col is table.label else self.person()
        if kind == "text":
            return None if rng.random() < 0.15 else rng.choice(_SENTENCES)
        if kind == "enum":
            return rng.choice(col.choices)
        if col.numeric:
            return self.number(col)
        if kind == "bool":
            return 1 if rng.random() < 0.6 else 0
        if kind == "dt":
            roll = rng.random()
            if roll < 0.45:
                return _Sql(f"datetime('now', '-{rng.randint(1, 400)} days')")
            if roll < 0.65:
                return _Sql(f"datetime('now', '+{rng.randint(1, 90)} days')")
            return self.literal_dt()
        if kind == "code":
            return self.code(col)
        if kind in ("email", "uemail"):
            first, last = person.split(" ", 1)
            slug = re.sub(r"[^a-z]", "", last.lower())
            return f"{first.lower()}.{slug}{rng.randint(1, 99)}@example.com"
        if kind == "phone":
            return f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
        raise ValueError(kind)

    def fresh(self, table: _Table, col: _Col) -> Any:
        """A value for a request body: valid, and unique where the column is UNIQUE."""
        rng = self.rng
        kind = col.kind
        if kind == "fk":
            return rng.choice(col.ref.ids())
        if kind == "code":
            return self.fresh_code(col)
        if kind == "uemail":
            self.fresh_counter += 1
            return f"{rng.choice(_FIRST).lower()}.updated{self.fresh_counter}@example.com"
        if kind == "title":
            return self.title(table, col)
        if kind == "person":
            return self.person()
        if kind == "text":
            return rng.choice(_SENTENCES)
        if kind == "bool":
            return rng.random() < 0.5
        if kind == "dt":
            return self.iso_dt()
        if kind == "email":
            return f"{rng.choice(_FIRST).lower()}.{rng.randint(100, 999)}@example.com"
        value = self.sample(table, col, self.person())
        return float(value) if col.stype == "float" else value


# --------------------------------------------------------------------------------------------
# Models, params and endpoints of the generated server


class _F:
    """A pydantic model field."""

    def __init__(
        self,
        name: str,
        ann: str,
        stype: str,
        required: bool,
        desc: str,
        example: Any,
        default: str = "None",
        ref: str | None = None,
        is_list: bool = False,
    ) -> None:
        self.name, self.ann, self.stype, self.required = name, ann, stype, required
        self.desc, self.example, self.default, self.ref, self.is_list = desc, example, default, ref, is_list


class _M:
    def __init__(self, name: str, fields: list[_F], orm: bool = False) -> None:
        self.name, self.fields, self.orm = name, fields, orm


class _P:
    """A path or query parameter."""

    def __init__(
        self,
        name: str,
        ann: str,
        stype: str,
        loc: str,
        required: bool,
        desc: str,
        example: Any,
        default: str = "None",
        extra: str = "",
    ) -> None:
        self.name, self.ann, self.stype, self.loc, self.required = name, ann, stype, loc, required
        self.desc, self.example, self.default, self.extra = desc, example, default, extra


class _E:
    def __init__(
        self,
        method: str,
        path: str,
        op: str,
        summary: str,
        desc: str,
        tags: list[str],
        group: str,
        params: list[_P],
        body: str | None,
        resp: str,
        lines: list[str],
        tables: dict[str, list[str]],
        status: int = 200,
    ) -> None:
        self.method, self.path, self.op, self.summary, self.desc = method, path, op, summary, desc
        self.tags, self.group, self.params, self.body, self.resp = tags, group, params, body, resp
        self.lines, self.tables, self.status = lines, tables, status


def _col_desc(table: _Table, col: _Col) -> str:
    hs = table.hs
    if col.kind == "fk":
        return f"ID of the {col.ref.hs} this {hs} belongs to."
    if col.kind == "bool":
        words = col.name.split("_")
        if words[0] in ("is", "has", "needs", "requires", "allows", "includes", "accepts"):
            verb = {
                "is": "is",
                "has": "has",
                "needs": "needs",
                "requires": "requires",
                "allows": "allows",
                "includes": "includes",
                "accepts": "accepts",
            }[words[0]]
            return f"Whether the {hs} {verb} {' '.join(words[1:])} (true/false)."
        return f"Whether {_human(col.name)} applies to the {hs} (true/false)."
    if col.kind == "enum":
        return f"{_human(col.name).capitalize()} of the {hs}; one of: {', '.join(col.choices)}."
    if col.kind == "code":
        return f"Unique {_human(col.name)} of the {hs} (e.g. {col.prefix}-12345)."
    if col.kind in ("dt", "ts"):
        return f"{_human(col.name).capitalize()} timestamp of the {hs} (ISO 8601)."
    if col.kind == "money":
        return f"{_human(col.name).capitalize()} of the {hs} in US dollars."
    return f"{_human(col.name).capitalize()} of the {hs}."


class _Builder:
    """Builds one scenario: schema, rows, endpoints, code, spec."""

    def __init__(self, index: int, seed: int) -> None:
        rng = self.rng = _rng(seed, index)
        key, title, where, roles, entities = rng.choice(_DOMAINS)
        self.domain, self.title, self.where = key, title, where
        self.name = f"synthetic_{key}_{index:04d}"
        self.vals = _Values(rng)
        self.style = rng.choice(("example", "schema_extra"))
        self.models: dict[str, _M] = {}
        self.endpoints: list[_E] = []
        self.users = self._users_table(roles.split(","))
        self.tables = [self.users] + self._entity_tables(entities)
        for table in self.tables:
            self._indexes(table)
            self._rows(table)

    # ---- schema ------------------------------------------------------------------------------

    def _users_table(self, roles: list[str]) -> _Table:
        rng = self.rng
        cols = [
            _Col("username", "uname"),
            _Col("email", "uemail"),
            _Col("full_name", "person"),
            _Col("role", "enum", (",".join(roles),)),
            _Col("is_active", "bool"),
        ]
        for spec in (
            "phone:phone",
            "last_login_at:dt",
            "account_credit:money:0:500",
            "timezone:enum:utc,america_new_york,europe_berlin,asia_tokyo",
        ):
            if rng.random() < 0.5:
                name, kind, *args = spec.split(":")
                cols.append(_Col(name, kind, tuple(args)))
        cols += [_Col("created_at", "ts"), _Col("updated_at", "ts")]
        table = _Table("users", "user", cols, [], False)
        table.label = cols[0]
        return table

    def _entity_tables(self, entities: list[tuple]) -> list[_Table]:
        rng = self.rng
        by_name = {e[0]: e for e in entities}

        def closure(name: str) -> set[str]:
            out = {name}
            for p in by_name[name][2].split():
                if p != "user":
                    out |= closure(p)
            return out

        want = rng.randint(2, min(7, len(entities)))
        chosen: set[str] = set()
        order = [e[0] for e in entities]
        rng.shuffle(order)
        for name in order:
            group = closure(name)
            if len(chosen | group) <= want:
                chosen |= group
            if len(chosen) == want:
                break
        built: dict[str, _Table] = {}
        out = []
        for singular, plural, parents, colspec, words in entities:
            if singular not in chosen:
                continue
            cols: list[_Col] = []
            owned = False
            parent_tables = []
            for p in parents.split():
                fk = _Col(f"{p}_id", "fk")
                if p == "user":
                    owned = True
                    fk.ref = self.users
                else:
                    fk.ref = built[p]
                    parent_tables.append(built[p])
                cols.append(fk)
            groups = [g.strip() for g in words.split(";;")] if words else []
            data: list[_Col] = []
            n_title = 0
            for item in colspec.split():
                name, kind, *args = item.split(":", 2)
                if kind in ("int", "real", "money"):
                    args = args[0].split(":")
                w = ""
                if kind == "title":
                    w = groups[n_title] if n_title < len(groups) else ""
                    n_title += 1
                data.append(_Col(name, kind, tuple(args), w))
            if not any(c.kind in ("title", "person", "code") for c in data):
                prefix = "".join(part[0] for part in singular.split("_")).upper() + "R"
                data.insert(0, _Col("reference_code", "code", (prefix,)))
            data = self._vary(data)
            table = _Table(
                plural,
                singular,
                cols + data + [_Col("created_at", "ts"), _Col("updated_at", "ts")],
                parent_tables,
                owned,
            )
            built[singular] = table
            out.append(table)
        return out

    def _vary(self, data: list[_Col]) -> list[_Col]:
        """Drop a few optional columns and add a few generic ones."""
        rng = self.rng
        keep_ids = set()
        for pred in (lambda c: c.kind in ("title", "person", "code"), lambda c: c.kind == "enum", lambda c: c.numeric):
            for c in data:
                if pred(c):
                    keep_ids.add(id(c))
                    break
        out = [c for c in data if id(c) in keep_ids or rng.random() > 0.15]
        names = {c.name for c in out}
        for spec in rng.sample(_EXTRAS, rng.randint(0, 2)):
            name, kind, *args = spec.split(":", 2)
            if kind in ("int", "real", "money"):
                args = args[0].split(":")
            if name not in names:
                out.append(_Col(name, kind, tuple(args)))
                names.add(name)
        return out

    def _indexes(self, table: _Table) -> None:
        rng = self.rng
        for c in table.fk_cols():
            table.indexes.append((f"idx_{table.name}_{c.name}", [c.name], False))
        candidates = [c for c in table.data_cols() if c.kind in ("enum", "dt", "title", "person", "uemail")]
        for c in rng.sample(candidates, min(len(candidates), rng.randint(1, 2))):
            table.indexes.append((f"idx_{table.name}_{c.name}", [c.name], False))
        fks = table.fk_cols()
        enums = table.of("enum")
        if fks and enums and rng.random() < 0.5:
            table.indexes.append(
                (f"idx_{table.name}_{fks[0].name}_{enums[0].name}", [fks[0].name, enums[0].name], False)
            )

    def _rows(self, table: _Table) -> None:
        rng, vals = self.rng, self.vals
        n = rng.randint(5, 10) if table is self.users else rng.randint(5, 15)
        for i in range(1, n + 1):
            person = vals.person()
            row: dict[str, Any] = {"id": i}
            if table is self.users:
                if i == 1:
                    person = "Jordan Avery"
                first, last = person.split(" ", 1)
                row["username"] = f"{first.lower()}_{re.sub(r'[^a-z]', '', last.lower())}{i}"
                row["full_name"] = person
            age = rng.randint(20, 600)
            for c in table.cols:
                if c.name in row:
                    continue
                if c.kind == "fk":
                    ids = c.ref.ids()
                    row[c.name] = 1 if (c.ref is self.users and rng.random() < 0.5) else rng.choice(ids)
                elif c.kind == "ts":
                    days = age if c.name == "created_at" else rng.randint(0, age)
                    row[c.name] = _Sql(f"datetime('now', '-{days} days')")
                elif c.kind == "uemail":
                    row[c.name] = f"{row['username']}@example.com"
                else:
                    row[c.name] = vals.sample(table, c, person)
            table.rows.append(row)

    # ---- models ------------------------------------------------------------------------------

    def _model(self, name: str, fields: list[_F], orm: bool = False) -> str:
        if name not in self.models:
            self.models[name] = _M(name, fields, orm)
        return name

    def _example_row(self, table: _Table) -> dict[str, Any]:
        return self.rng.choice(table.rows)

    def _row_example(self, table: _Table, col: _Col, row: dict[str, Any]) -> Any:
        value = row.get(col.name)
        if col.kind in ("ts", "dt"):
            return self.vals.iso_dt() if (isinstance(value, _Sql) or value is None) else value.replace(" ", "T")
        if col.kind == "bool":
            return bool(value)
        if value is None:
            return self.vals.fresh(table, col)
        return value

    def entity_model(self, table: _Table) -> str:
        name = f"{table.cls}Model"
        if name in self.models:
            return name
        row = self._example_row(table)
        fields = [_F("id", "int", "integer", True, f"Unique ID of the {table.hs}.", row["id"])]
        for c in table.cols:
            fields.append(
                _F(c.name, c.ann, c.stype, not c.nullable, _col_desc(table, c), self._row_example(table, c, row))
            )
        return self._model(name, fields, orm=True)

    def body_model(self, name: str, table: _Table, cols: list[_Col], mode: str) -> tuple[str, dict[str, Any]]:
        """mode: create/replace (NOT NULL columns required) or patch (all optional)."""
        fields = []
        examples = {}
        for c in cols:
            ex = self.vals.fresh(table, c)
            examples[c.name] = ex
            if mode == "patch":
                fields.append(
                    _F(
                        c.name,
                        f"Optional[{c.py}]",
                        c.stype,
                        False,
                        f"New value for {_human(c.name)}; omit to keep the current value.",
                        ex,
                    )
                )
            elif c.kind == "bool":
                fields.append(
                    _F(c.name, "bool", c.stype, False, _col_desc(table, c) + " Defaults to false.", ex, default="False")
                )
            else:
                fields.append(_F(c.name, c.ann, c.stype, not c.nullable, _col_desc(table, c), ex))
        return self._model(name, fields), examples

    def list_model(self, name: str, key: str, table: _Table, extra: list[_F]) -> str:
        item = self.entity_model(table)
        fields = [_F(key, f"List[{item}]", "array", True, f"Matching {table.hp}.", [], ref=item, is_list=True)]
        return self._model(name, fields + extra)

    def serializer(self, table: _Table) -> str:
        """Name of the module-level function turning an ORM row into its entity model."""
        self.entity_model(table)
        return f"serialize_{table.singular}"

    def single_model(self, table: _Table) -> str:
        item = self.entity_model(table)
        return self._model(
            f"{table.cls}Response", [_F(table.singular, item, "object", True, f"The {table.hs} record.", {}, ref=item)]
        )

    # ---- code snippets -----------------------------------------------------------------------

    @staticmethod
    def ctor(
        model: str, table: _Table, var: str, indent: int, extra: list[tuple[str, str]] = (), trailing: str = ""
    ) -> list[str]:
        pad = " " * indent
        lines = [f"{pad}{model}(", f"{pad}    id={var}.id,"]
        lines += [f"{pad}    {c.name}={var}.{c.name}," for c in table.cols]
        lines += [f"{pad}    {k}={v}," for k, v in extra]
        lines.append(f"{pad}){trailing}")
        return lines

    @staticmethod
    def fetch(table: _Table, var: str, id_expr: str, indent: int = 8) -> list[str]:
        pad = " " * indent
        return [
            f"{pad}{var} = session.query({table.cls}).filter({table.cls}.id == {id_expr}).first()",
            f"{pad}if {var} is None:",
            f'{pad}    raise HTTPException(status_code=404, detail="{table.hs.capitalize()} not found")',
        ]

    def parent_checks(self, table: _Table, src: str, skip: tuple[str, ...] = (), optional: bool = False) -> list[str]:
        lines = []
        for c in table.fk_cols():
            if c.name in skip or (c.ref is self.users and table.owned):
                continue
            expr = f"{src}.{c.name}" if src == "body" else f'{src}["{c.name}"]'
            var = f"{c.ref.singular}_row"
            if optional:
                lines.append(f'        if "{c.name}" in updates and updates["{c.name}"] is not None:')
                lines += self.fetch(c.ref, var, expr, 12)
            else:
                lines += self.fetch(c.ref, var, expr)
        return lines

    @staticmethod
    def enum_const(table: _Table, col: _Col) -> str:
        return f"{table.singular.upper()}_{col.name.upper()}_VALUES"

    def enum_checks(self, table: _Table, src: str, cols: list[_Col]) -> list[str]:
        """Reject values outside an enum column's CHECK list with 400 (instead of a DB error)."""
        lines = []
        names = {c.name for c in cols}
        for c in table.of("enum"):
            if c.name not in names:
                continue
            const = self.enum_const(table, c)
            if src == "body":
                lines += [
                    f"        if body.{c.name} not in {const}:",
                    f'            raise HTTPException(status_code=400, detail=f"Invalid {c.name}: {{body.{c.name}}}")',
                ]
            else:
                lines += [
                    f'        if updates.get("{c.name}") is not None and updates["{c.name}"] not in {const}:',
                    f"            raise HTTPException(status_code=400, detail=f\"Invalid {c.name}: {{updates['{c.name}']}}\")",
                ]
        return lines

    def unique_checks(
        self, table: _Table, src: str, exclude_id: str | None, optional: bool = False, only: list[_Col] | None = None
    ) -> list[str]:
        lines = []
        for c in table.data_cols():
            if not c.unique or (only is not None and c not in only):
                continue
            expr = f"{src}.{c.name}" if src == "body" else f'updates["{c.name}"]'
            pad = "        "
            if optional:
                lines.append(f'        if updates.get("{c.name}") is not None:')
                pad = "            "
            cond = f"{table.cls}.{c.name} == {expr}"
            if exclude_id:
                cond += f", {table.cls}.id != {exclude_id}"
            lines += [
                f"{pad}clash = session.query({table.cls}).filter({cond}).first()",
                f"{pad}if clash is not None:",
                f'{pad}    raise HTTPException(status_code=409, detail="{_a(table.hs).capitalize()} with this {_human(c.name)} already exists")',
            ]
        return lines

    # ---- endpoint patterns -------------------------------------------------------------------

    def _limit_params(self, default: int = 20) -> list[_P]:
        return [
            _P(
                "limit",
                "int",
                "integer",
                "query",
                False,
                "Maximum number of results to return (1-100).",
                min(default, 10),
                str(default),
                ", ge=1, le=100",
            ),
            _P(
                "offset",
                "int",
                "integer",
                "query",
                False,
                "Number of results to skip for pagination.",
                0,
                "0",
                ", ge=0",
            ),
        ]

    def _filters(self, table: _Table, rich: bool, skip: tuple[str, ...] = ()) -> tuple[list[_P], list[str], list[str]]:
        """Filter params for a list-like endpoint: (params, code lines, human names)."""
        rng, cls = self.rng, table.cls
        params: list[_P] = []
        lines: list[str] = []
        names: list[str] = []
        sample = self._example_row(table)

        def add(p: _P, code: list[str], human: str) -> None:
            params.append(p)
            lines.extend(code)
            names.append(human)

        label = table.label
        if rich or rng.random() < 0.5:
            value = str(sample[label.name])
            word = max(re.split(r"[ \-]", value), key=len)
            add(
                _P(
                    "q",
                    "Optional[str]",
                    "string",
                    "query",
                    False,
                    f"Case-insensitive text matched against the {table.hs} {_human(label.name)}.",
                    word,
                ),
                [
                    "        if q is not None and q.strip():",
                    f'            base_query = base_query.filter({cls}.{label.name}.ilike(f"%{{q.strip()}}%"))',
                ],
                f"{_human(label.name)} text",
            )
        for c in table.fk_cols():
            if c.name in skip or (c.ref is self.users and not rich):
                continue
            if rich or rng.random() < 0.6:
                add(
                    _P(
                        c.name,
                        "Optional[int]",
                        "integer",
                        "query",
                        False,
                        f"Only return {table.hp} of this {c.ref.hs} ID.",
                        rng.choice(c.ref.ids()),
                    ),
                    [
                        f"        if {c.name} is not None:",
                        f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
                    ],
                    c.ref.hs,
                )
        enums = table.of("enum")
        for i, c in enumerate(enums):
            if i == 0 or rich and rng.random() < 0.6:
                add(
                    _P(
                        c.name,
                        "Optional[str]",
                        "string",
                        "query",
                        False,
                        f"Only return {table.hp} whose {_human(c.name)} equals this value ({', '.join(c.choices)}).",
                        sample[c.name],
                    ),
                    [
                        f"        if {c.name} is not None:",
                        f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
                    ],
                    _human(c.name),
                )
            if i == 0 and (rich or rng.random() < 0.5):
                ex = rng.sample(list(c.choices), min(2, len(c.choices)))
                add(
                    _P(
                        f"{c.name}_in",
                        "Optional[List[str]]",
                        "array",
                        "query",
                        False,
                        f"Only return {table.hp} whose {_human(c.name)} is one of these values (repeat the parameter).",
                        ex,
                    ),
                    [
                        f"        if {c.name}_in:",
                        f"            base_query = base_query.filter({cls}.{c.name}.in_({c.name}_in))",
                    ],
                    f"a set of {_human(c.name)} values",
                )
        nums = table.numerics()
        for c in nums[: 3 if rich else 1]:
            if not rich and rng.random() < 0.4:
                continue
            py = "int" if c.kind == "int" else "float"
            lo, hi = (int(c.lo), int(c.hi)) if py == "int" else (float(c.lo), float(c.hi))
            add(
                _P(
                    f"min_{c.name}",
                    f"Optional[{py}]",
                    c.stype,
                    "query",
                    False,
                    f"Only return {table.hp} with {_human(c.name)} greater than or equal to this value.",
                    lo,
                ),
                [
                    f"        if min_{c.name} is not None:",
                    f"            base_query = base_query.filter({cls}.{c.name} >= min_{c.name})",
                ],
                f"minimum {_human(c.name)}",
            )
            if rich:
                add(
                    _P(
                        f"max_{c.name}",
                        f"Optional[{py}]",
                        c.stype,
                        "query",
                        False,
                        f"Only return {table.hp} with {_human(c.name)} less than or equal to this value.",
                        hi,
                    ),
                    [
                        f"        if max_{c.name} is not None:",
                        f"            base_query = base_query.filter({cls}.{c.name} <= max_{c.name})",
                    ],
                    f"maximum {_human(c.name)}",
                )
        for c in table.of("bool")[: 2 if rich else 1]:
            if not rich and rng.random() < 0.5:
                continue
            add(
                _P(
                    c.name,
                    "Optional[bool]",
                    "boolean",
                    "query",
                    False,
                    f"Filter {table.hp} by the {_human(c.name)} flag.",
                    bool(sample[c.name]),
                ),
                [
                    f"        if {c.name} is not None:",
                    f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
                ],
                _human(c.name),
            )
        dts = table.of("dt")
        if dts and rich and rng.random() < 0.7:
            c = dts[0]
            add(
                _P(
                    f"{c.name}_from",
                    "Optional[datetime]",
                    "string",
                    "query",
                    False,
                    f"Only return {table.hp} with {_human(c.name)} on or after this ISO 8601 timestamp.",
                    "2023-01-01T00:00:00",
                ),
                [
                    f"        if {c.name}_from is not None:",
                    f"            base_query = base_query.filter({cls}.{c.name} >= {c.name}_from)",
                ],
                f"{_human(c.name)} date",
            )
        return params, lines, names

    def ep_list(self, table: _Table) -> _E:
        rng, cls = self.rng, table.cls
        params, flines, names = self._filters(table, rich=True)
        sortable = [table.label.name] + [c.name for c in table.numerics()[:2]] + ["created_at"]
        sort_ex = rng.choice(sortable)
        params += [
            _P(
                "sort_by",
                "str",
                "string",
                "query",
                False,
                f"Field to sort {table.hp} by: {', '.join(sortable)}.",
                sort_ex,
                _py(sortable[0]),
            ),
            _P(
                "sort_order",
                "str",
                "string",
                "query",
                False,
                "Sort direction: asc or desc.",
                rng.choice(("asc", "desc")),
                '"asc"',
            ),
        ] + self._limit_params()
        resp = self.list_model(
            f"{cls}ListResponse",
            table.name,
            table,
            [
                _F("total", "int", "integer", True, f"Number of {table.hp} matching the filters.", len(table.rows)),
                _F("limit", "int", "integer", True, "Page size used.", 10),
                _F("offset", "int", "integer", True, "Offset used.", 0),
            ],
        )
        item = self.entity_model(table)
        lines = ["    session = SessionLocal()", "    try:", f"        base_query = session.query({cls})"]
        lines += flines
        lines += [
            "        total = base_query.count()",
            "        sort_columns = {",
            *[f'            "{s}": {cls}.{s},' for s in sortable],
            "        }",
            "        if sort_by not in sort_columns:",
            '            raise HTTPException(status_code=400, detail=f"Unsupported sort_by value: {sort_by}")',
            "        order_column = sort_columns[sort_by]",
            '        if sort_order == "desc":',
            f"            base_query = base_query.order_by(order_column.desc(), {cls}.id.asc())",
            "        else:",
            f"            base_query = base_query.order_by(order_column.asc(), {cls}.id.asc())",
            "        rows = base_query.offset(offset).limit(limit).all()",
            f"        items: List[{item}] = [{self.serializer(table)}(row) for row in rows]",
            f"        return {resp}({table.name}=items, total=total, limit=limit, offset=offset)",
            "    finally:",
            "        session.close()",
        ]
        desc = (
            f"List {table.hp} {self.where}, optionally filtered by {', '.join(names[:5])}; "
            f"results are sorted and paginated with limit and offset."
        )
        return _E(
            "GET",
            f"/api/{table.slug}",
            f"list_{table.name}",
            f"List {table.hp}",
            desc,
            [table.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["*"]},
        )

    def ep_get(self, table: _Table) -> _E:
        cls, item = table.cls, self.entity_model(table)
        row = self._example_row(table)
        extra: list[_F] = []
        joins: list[tuple[_Table, str]] = []
        taken = {c.name for c in table.cols}
        for p in table.parents:
            fname = f"{p.singular}_{p.label.name}"
            if fname in taken:
                continue
            taken.add(fname)
            joins.append((p, fname))
            prow = next(r for r in p.rows if r["id"] == row[f"{p.singular}_id"])
            extra.append(
                _F(
                    fname,
                    "Optional[str]",
                    "string",
                    False,
                    f"{_human(p.label.name).capitalize()} of the {p.hs} this {table.hs} belongs to.",
                    prow[p.label.name],
                )
            )
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(table, "row", table.id_param)
        if joins:
            base = self.models[item].fields
            detail = self._model(f"{cls}DetailModel", base + extra)
            resp = self._model(
                f"{cls}DetailResponse",
                [_F(table.singular, detail, "object", True, f"The {table.hs} with related names.", {}, ref=detail)],
            )
            ex: list[tuple[str, str]] = []
            for p, fname in joins:
                var = f"{p.singular}_row"
                lines += [f"        {var} = session.query({p.cls}).filter({p.cls}.id == row.{p.singular}_id).first()"]
                ex.append((fname, f"{var}.{p.label.name} if {var} is not None else None"))
            lines += [f"        result = {detail}("] + self.ctor(detail, table, "row", 8, ex)[1:]
            lines += [f"        return {resp}({table.singular}=result)"]
            rel = " and the name of its " + " and ".join(p.hs for p, _ in joins)
        else:
            resp = self.single_model(table)
            lines += [f"        result = {item}("] + self.ctor(item, table, "row", 8)[1:]
            lines += [f"        return {resp}({table.singular}=result)"]
            rel = ""
        lines += ["    finally:", "        session.close()"]
        params = [_P(table.id_param, "int", "integer", "path", True, f"ID of the {table.hs} to retrieve.", row["id"])]
        return _E(
            "GET",
            f"/api/{table.slug}/{{{table.id_param}}}",
            f"get_{table.singular}",
            f"Get {_a(table.hs)} by ID",
            f"Retrieve a single {table.hs} by its ID with all stored fields{rel}.",
            [table.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["*"], **{p.name: ["id", p.label.name] for p, _ in joins}},
        )

    def _create_lines(self, table: _Table, skip_fk: str | None) -> list[str]:
        item, resp = self.entity_model(table), self.single_model(table)
        lines = ["    session = SessionLocal()", "    try:"]
        if table.owned:
            lines.append("        user_id = 1")
        if skip_fk:
            lines += self.fetch(
                table.fk_cols()[[c.name for c in table.fk_cols()].index(skip_fk)].ref, "parent", skip_fk
            )
        lines += self.enum_checks(table, "body", table.writable())
        lines += self.parent_checks(table, "body", skip=(skip_fk,) if skip_fk else ())
        lines += self.unique_checks(table, "body", None)
        lines += ["        now = datetime.utcnow()", f"        row = {table.cls}("]
        for c in table.cols:
            if c.kind == "ts":
                lines.append(f"            {c.name}=now,")
            elif c.name == "user_id" and table.owned:
                lines.append("            user_id=user_id,")
            elif c.name == skip_fk:
                lines.append(f"            {c.name}={c.name},")
            else:
                lines.append(f"            {c.name}=body.{c.name},")
        lines += ["        )", "        session.add(row)", "        session.commit()", "        session.refresh(row)"]
        lines += [f"        created = {item}("] + self.ctor(item, table, "row", 8)[1:]
        lines += [f"        return {resp}({table.singular}=created)", "    finally:", "        session.close()"]
        return lines

    def ep_create(self, table: _Table) -> _E:
        body, _ = self.body_model(f"{table.cls}CreateBody", table, table.writable(), "create")
        lines = self._create_lines(table, None)
        owner = " owned by the current user" if table.owned else ""
        fields = ", ".join(_human(c.name) for c in table.data_cols()[:3])
        desc = f"Create a new {table.hs}{owner} from the given {fields} and other fields, and return the stored record."
        return _E(
            "POST",
            f"/api/{table.slug}",
            f"create_{table.singular}",
            f"Create {_a(table.hs)}",
            desc,
            [table.slug],
            _camel(table.name),
            [],
            body,
            self.single_model(table),
            lines,
            {table.name: [c.name for c in table.writable()]},
            status=201,
        )

    def ep_replace(self, table: _Table) -> _E:
        body, _ = self.body_model(f"{table.cls}ReplaceBody", table, table.writable(), "replace")
        resp = self.single_model(table)
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(table, "row", table.id_param)
        lines += self.enum_checks(table, "body", table.writable())
        lines += self.parent_checks(table, "body")
        lines += self.unique_checks(table, "body", table.id_param)
        lines += [f"        row.{c.name} = body.{c.name}" for c in table.writable()]
        lines += [
            "        row.updated_at = datetime.utcnow()",
            "        session.commit()",
            "        session.refresh(row)",
        ]
        lines += [f"        replaced = {self.serializer(table)}(row)"]
        lines += [f"        return {resp}({table.singular}=replaced)", "    finally:", "        session.close()"]
        params = [
            _P(
                table.id_param,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {table.hs} to replace.",
                self.rng.choice(table.ids()),
            )
        ]
        desc = f"Replace all editable fields of an existing {table.hs} identified by its ID; omitted optional fields are cleared."
        return _E(
            "PUT",
            f"/api/{table.slug}/{{{table.id_param}}}",
            f"replace_{table.singular}",
            f"Replace {_a(table.hs)}",
            desc,
            [table.slug],
            _camel(table.name),
            params,
            body,
            resp,
            lines,
            {table.name: [c.name for c in table.writable()]},
        )

    def ep_patch(self, table: _Table) -> _E:
        cols = table.writable()
        body, _ = self.body_model(f"{table.cls}PatchBody", table, cols, "patch")
        resp = self.single_model(table)
        required = [c.name for c in cols if not c.nullable]
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(table, "row", table.id_param)
        lines += [
            "        updates = body.model_dump(exclude_unset=True)",
            f"        non_nullable = {_py(required)}",
            "        for field_name in non_nullable:",
            "            if field_name in updates and updates[field_name] is None:",
            '                raise HTTPException(status_code=400, detail=f"{field_name} cannot be null")',
        ]
        lines += self.enum_checks(table, "updates", cols)
        lines += self.parent_checks(table, "updates", optional=True)
        lines += self.unique_checks(table, "updates", table.id_param, optional=True)
        lines += [
            "        for field_name, new_value in updates.items():",
            "            setattr(row, field_name, new_value)",
            "        row.updated_at = datetime.utcnow()",
            "        session.commit()",
            "        session.refresh(row)",
        ]
        lines += [f"        patched = {self.serializer(table)}(row)"]
        lines += [f"        return {resp}({table.singular}=patched)", "    finally:", "        session.close()"]
        params = [
            _P(
                table.id_param,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {table.hs} to update.",
                self.rng.choice(table.ids()),
            )
        ]
        desc = f"Update only the supplied fields of an existing {table.hs}; fields that are not sent keep their current values."
        return _E(
            "PATCH",
            f"/api/{table.slug}/{{{table.id_param}}}",
            f"update_{table.singular}",
            f"Update {_a(table.hs)}",
            desc,
            [table.slug],
            _camel(table.name),
            params,
            body,
            resp,
            lines,
            {table.name: [c.name for c in cols]},
        )

    def ep_delete(self, table: _Table) -> _E:
        resp = self._model(
            f"{table.cls}DeleteResponse",
            [
                _F("deleted", "bool", "boolean", True, "True when the record was removed.", True),
                _F(table.id_param, "int", "integer", True, f"ID of the deleted {table.hs}.", 1),
                _F(
                    "message",
                    "str",
                    "string",
                    True,
                    "Human-readable confirmation.",
                    f"{table.hs.capitalize()} 1 deleted",
                ),
            ],
        )
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(table, "row", table.id_param)
        if table.owned and self.rng.random() < 0.5:
            lines += [
                "        user_id = 1",
                "        if row.user_id != user_id and row.user_id is not None:",
                '            deleted_for = f"user {row.user_id}"',
                "        else:",
                '            deleted_for = "the current user"',
            ]
        else:
            lines += ['        deleted_for = "the system"']
        lines += [
            "        session.delete(row)",
            "        session.commit()",
            f"        return {resp}(",
            "            deleted=True,",
            f"            {table.id_param}={table.id_param},",
            f'            message=f"{table.hs.capitalize()} {{{table.id_param}}} deleted for {{deleted_for}}",',
            "        )",
            "    finally:",
            "        session.close()",
        ]
        params = [
            _P(
                table.id_param,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {table.hs} to delete.",
                self.rng.choice(table.ids()),
            )
        ]
        return _E(
            "DELETE",
            f"/api/{table.slug}/{{{table.id_param}}}",
            f"delete_{table.singular}",
            f"Delete {_a(table.hs)}",
            f"Permanently delete {_a(table.hs)} by its ID and confirm which record was removed.",
            [table.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["id"]},
        )

    def ep_stats(self, table: _Table) -> _E | None:
        cls, nums, enums, bools = table.cls, table.numerics()[:2], table.of("enum")[:2], table.of("bool")[:1]
        if not nums:
            return None
        params: list[_P] = []
        lines = ["    session = SessionLocal()", "    try:", f"        base_query = session.query({cls})"]
        fks = [c for c in table.fk_cols() if c.ref is not self.users]
        if fks:
            c = fks[0]
            params.append(
                _P(
                    c.name,
                    "Optional[int]",
                    "integer",
                    "query",
                    False,
                    f"Restrict the statistics to {table.hp} of this {c.ref.hs} ID.",
                    self.rng.choice(c.ref.ids()),
                )
            )
            lines += [
                f"        if {c.name} is not None:",
                f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
            ]
        if len(enums) > 1 or (enums and self.rng.random() < 0.5):
            c = enums[-1]
            params.append(
                _P(
                    c.name,
                    "Optional[str]",
                    "string",
                    "query",
                    False,
                    f"Restrict the statistics to {table.hp} with this {_human(c.name)}.",
                    self.rng.choice(c.choices),
                )
            )
            lines += [
                f"        if {c.name} is not None:",
                f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
            ]
        fields = [_F("total_count", "int", "integer", True, f"Number of {table.hp} included.", len(table.rows))]
        lines += ["        total_count = base_query.count()"]
        kwargs = ["total_count=total_count"]
        for c in nums:
            for fn, label, ex in (("avg", "average", (c.lo + c.hi) / 2), ("min", "min", c.lo), ("max", "max", c.hi)):
                fields.append(
                    _F(
                        f"{label}_{c.name}",
                        "Optional[float]",
                        "float",
                        False,
                        f"{label.capitalize()} {_human(c.name)} over the included {table.hp}.",
                        round(float(ex), 2),
                    )
                )
                lines.append(f"        {label}_{c.name} = base_query.with_entities(func.{fn}({cls}.{c.name})).scalar()")
                kwargs.append(f"{label}_{c.name}={label}_{c.name}")
        for c in enums[:1]:
            fields.append(
                _F(
                    f"count_by_{c.name}",
                    "Dict[str, int]",
                    "object",
                    True,
                    f"Number of {table.hp} per {_human(c.name)} value.",
                    {c.choices[0]: 2},
                )
            )
            lines += [
                f"        count_by_{c.name}: Dict[str, int] = {{}}",
                f"        grouped = base_query.with_entities({cls}.{c.name}, func.count({cls}.id)).group_by({cls}.{c.name}).all()",
                "        for key, count in grouped:",
                f"            count_by_{c.name}[str(key)] = int(count)",
            ]
            kwargs.append(f"count_by_{c.name}=count_by_{c.name}")
        for c in bools:
            fields.append(
                _F(
                    f"{c.name}_count",
                    "int",
                    "integer",
                    True,
                    f"Number of included {table.hp} where {_human(c.name)} is true.",
                    1,
                )
            )
            lines.append(f"        {c.name}_count = base_query.filter({cls}.{c.name} == True).count()  # noqa: E712")
            kwargs.append(f"{c.name}_count={c.name}_count")
        resp = self._model(f"{cls}StatsResponse", fields)
        lines += (
            [f"        return {resp}("]
            + [f"            {k}," for k in kwargs]
            + ["        )", "    finally:", "        session.close()"]
        )
        metric = " and ".join(_human(c.name) for c in nums)
        per = f" and counts per {_human(enums[0].name)}" if enums else ""
        return _E(
            "GET",
            f"/api/{table.slug}/stats",
            f"get_{table.singular}_stats",
            f"Get {table.hs} statistics",
            f"Compute aggregate statistics over {table.hp}: total count, average/min/max {metric}{per}.",
            [table.slug, "stats"],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: [c.name for c in nums + enums + bools]},
        )

    def ep_search(self, table: _Table) -> _E | None:
        cols = [c for c in table.data_cols() if c.searchable]
        if len(cols) < 2:
            return None
        cls, item = table.cls, self.entity_model(table)
        names = [c.name for c in cols]
        row = self._example_row(table)
        term = max(re.split(r"[ \-]", str(row[table.label.name])), key=len)
        ex_fields = [table.label.name] + self.rng.sample(names[1:], 1)
        params = [
            _P(
                "term",
                "str",
                "string",
                "query",
                True,
                f"Text to look for in {table.hp} (case-insensitive substring).",
                term,
                "...",
            ),
            _P(
                "search_fields",
                "Optional[List[str]]",
                "array",
                "query",
                False,
                f"Fields to search; any of: {', '.join(names)}. Defaults to all of them.",
                ex_fields,
            ),
            _P(
                "limit",
                "int",
                "integer",
                "query",
                False,
                "Maximum number of matches to return (1-100).",
                10,
                "25",
                ", ge=1, le=100",
            ),
        ]
        resp = self.list_model(
            f"{cls}SearchResponse",
            table.name,
            table,
            [
                _F("term", "str", "string", True, "The search text that was used.", term),
                _F("match_count", "int", "integer", True, "Number of matches returned.", 1),
            ],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            "        searchable = {",
            *[f'            "{n}": {cls}.{n},' for n in names],
            "        }",
            "        chosen = search_fields or list(searchable.keys())",
            "        unknown = [name for name in chosen if name not in searchable]",
            "        if unknown:",
            "            raise HTTPException(status_code=400, detail=f\"Unknown search fields: {', '.join(unknown)}\")",
            '        pattern = f"%{term.strip()}%"',
            "        conditions = [searchable[name].ilike(pattern) for name in chosen]",
            f"        rows = session.query({cls}).filter(or_(*conditions)).order_by({cls}.id.asc()).limit(limit).all()",
            f"        items: List[{item}] = [{self.serializer(table)}(row) for row in rows]",
            f"        return {resp}({table.name}=items, term=term, match_count=len(items))",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "GET",
            f"/api/{table.slug}/search",
            f"search_{table.name}",
            f"Search {table.hp}",
            f"Search {table.hp} for a text across {', '.join(_human(n) for n in names)}; choose which fields to match.",
            [table.slug, "search"],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: names},
        )

    def ep_top(self, table: _Table) -> _E | None:
        nums = table.numerics()
        if not nums:
            return None
        cls, rng = table.cls, self.rng
        names = [c.name for c in nums]
        params = [
            _P(
                "metric",
                "str",
                "string",
                "query",
                False,
                f"Numeric field to rank {table.hp} by: {', '.join(names)}.",
                rng.choice(names),
                _py(names[0]),
            ),
            _P(
                "ascending",
                "bool",
                "boolean",
                "query",
                False,
                "Rank from the lowest value instead of the highest.",
                rng.random() < 0.3,
                "False",
            ),
            _P(
                "limit",
                "int",
                "integer",
                "query",
                False,
                "How many ranked entries to return (1-50).",
                5,
                "5",
                ", ge=1, le=50",
            ),
        ]
        item = self._model(
            f"{cls}RankItem",
            [
                _F("id", "int", "integer", True, f"ID of the {table.hs}.", 1),
                _F(
                    table.label.name,
                    "str",
                    "string",
                    True,
                    f"{_human(table.label.name).capitalize()} of the {table.hs}.",
                    str(table.rows[0][table.label.name]),
                ),
                _F("rank", "int", "integer", True, "1-based position in the ranking.", 1),
                _F("value", "float", "float", True, "Value of the ranking metric.", float(nums[0].hi)),
            ],
        )
        resp = self._model(
            f"{cls}TopResponse",
            [
                _F("metric", "str", "string", True, "Metric used for ranking.", names[0]),
                _F("items", f"List[{item}]", "array", True, f"Ranked {table.hp}.", [], ref=item, is_list=True),
            ],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            "        metric_columns = {",
            *[f'            "{n}": {cls}.{n},' for n in names],
            "        }",
            "        if metric not in metric_columns:",
            '            raise HTTPException(status_code=400, detail=f"Unsupported metric: {metric}")',
            "        column = metric_columns[metric]",
            "        ordering = column.asc() if ascending else column.desc()",
            f"        rows = session.query({cls}).order_by(ordering, {cls}.id.asc()).limit(limit).all()",
            f"        items: List[{item}] = []",
            "        for position, row in enumerate(rows, start=1):",
            "            items.append(",
            f"                {item}(",
            "                    id=row.id,",
            f"                    {table.label.name}=row.{table.label.name},",
            "                    rank=position,",
            "                    value=float(getattr(row, metric)),",
            "                )",
            "            )",
            f"        return {resp}(metric=metric, items=items)",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "GET",
            f"/api/{table.slug}/top",
            f"get_top_{table.name}",
            f"Rank {table.hp}",
            f"Rank {table.hp} by a numeric field such as {' or '.join(_human(n) for n in names[:2])} and return the top entries.",
            [table.slug, "stats"],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["id", table.label.name] + names},
        )

    def ep_recent(self, table: _Table) -> _E:
        cls, item = table.cls, self.entity_model(table)
        params = [
            _P(
                "days",
                "int",
                "integer",
                "query",
                False,
                f"Look-back window in days for newly created {table.hp}.",
                self.rng.choice((90, 180, 365, 730)),
                "30",
                ", ge=1, le=3650",
            ),
            _P(
                "limit",
                "int",
                "integer",
                "query",
                False,
                "Maximum number of results to return (1-100).",
                10,
                "20",
                ", ge=1, le=100",
            ),
        ]
        resp = self.list_model(
            f"{cls}RecentResponse",
            table.name,
            table,
            [
                _F("days", "int", "integer", True, "Look-back window used.", 30),
                _F("count", "int", "integer", True, "Number of records returned.", 3),
            ],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            "        cutoff = datetime.utcnow() - timedelta(days=days)",
            "        rows = (",
            f"            session.query({cls})",
            f"            .filter({cls}.created_at >= cutoff)",
            f"            .order_by({cls}.created_at.desc(), {cls}.id.desc())",
            "            .limit(limit)",
            "            .all()",
            "        )",
            f"        items: List[{item}] = [{self.serializer(table)}(row) for row in rows]",
            f"        return {resp}({table.name}=items, days=days, count=len(items))",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "GET",
            f"/api/{table.slug}/recent",
            f"list_recent_{table.name}",
            f"List recently added {table.hp}",
            f"List {table.hp} created within the last N days, newest first.",
            [table.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["*"]},
        )

    def ep_set_enum(self, table: _Table) -> _E | None:
        enums = table.of("enum")
        if not enums:
            return None
        c = enums[0]
        cls, resp = table.cls, self.single_model(table)
        target = self.rng.choice(c.choices)
        body = self._model(
            f"{cls}{_camel(c.name)}Body",
            [_F(c.name, "str", "string", True, f"New {_human(c.name)}; one of: {', '.join(c.choices)}.", target)],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            f"        if body.{c.name} not in {self.enum_const(table, c)}:",
            f'            raise HTTPException(status_code=400, detail=f"Invalid {c.name}: {{body.{c.name}}}")',
        ]
        lines += self.fetch(table, "row", table.id_param)
        lines += [
            f"        previous = row.{c.name}",
            f"        row.{c.name} = body.{c.name}",
            "        if previous != body." + c.name + ":",
            "            row.updated_at = datetime.utcnow()",
            "        session.commit()",
            "        session.refresh(row)",
        ]
        lines += [f"        changed = {self.serializer(table)}(row)"]
        lines += [f"        return {resp}({table.singular}=changed)", "    finally:", "        session.close()"]
        params = [
            _P(
                table.id_param,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {table.hs} to change.",
                self.rng.choice(table.ids()),
            )
        ]
        seg = c.name.replace("_", "-")
        return _E(
            "PATCH",
            f"/api/{table.slug}/{{{table.id_param}}}/{seg}",
            f"set_{table.singular}_{c.name}",
            f"Change the {_human(c.name)} of {_a(table.hs)}",
            f"Set the {_human(c.name)} of one {table.hs} to one of: {', '.join(c.choices)}.",
            [table.slug],
            _camel(table.name),
            params,
            body,
            resp,
            lines,
            {table.name: [c.name]},
        )

    def ep_bulk(self, table: _Table) -> _E | None:
        enums = table.of("enum")
        if not enums:
            return None
        c, cls, rng = enums[0], table.cls, self.rng
        ids = sorted(rng.sample(table.ids(), min(3, len(table.rows))))
        body = self._model(
            f"{cls}Bulk{_camel(c.name)}Body",
            [
                _F("ids", "List[int]", "array", True, f"IDs of the {table.hp} to change.", ids),
                _F(
                    c.name,
                    "str",
                    "string",
                    True,
                    f"New {_human(c.name)} for all of them; one of: {', '.join(c.choices)}.",
                    rng.choice(c.choices),
                ),
            ],
        )
        resp = self._model(
            f"{cls}Bulk{_camel(c.name)}Response",
            [
                _F("updated_count", "int", "integer", True, f"Number of {table.hp} changed.", len(ids)),
                _F("missing_ids", "List[int]", "array", True, "Requested IDs that do not exist.", []),
                _F(c.name, "str", "string", True, f"The {_human(c.name)} that was applied.", c.choices[0]),
            ],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            f"        if body.{c.name} not in {self.enum_const(table, c)}:",
            f'            raise HTTPException(status_code=400, detail=f"Invalid {c.name}: {{body.{c.name}}}")',
            "        if not body.ids:",
            '            raise HTTPException(status_code=400, detail="ids must not be empty")',
            f"        rows = session.query({cls}).filter({cls}.id.in_(body.ids)).all()",
            "        found_ids = {row.id for row in rows}",
            "        missing_ids = [value_id for value_id in body.ids if value_id not in found_ids]",
            "        now = datetime.utcnow()",
            "        for row in rows:",
            f"            row.{c.name} = body.{c.name}",
            "            row.updated_at = now",
            "        session.commit()",
            f"        return {resp}(updated_count=len(rows), missing_ids=missing_ids, {c.name}=body.{c.name})",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "POST",
            f"/api/{table.slug}/bulk-{c.name.replace('_', '-')}",
            f"bulk_set_{table.singular}_{c.name}",
            f"Change the {_human(c.name)} of several {table.hp}",
            f"Set the {_human(c.name)} of several {table.hp} at once by ID and report IDs that were not found.",
            [table.slug],
            _camel(table.name),
            [],
            body,
            resp,
            lines,
            {table.name: ["id", c.name]},
        )

    def ep_flags(self, table: _Table) -> _E | None:
        bools = table.of("bool")
        if not bools:
            return None
        cls, resp = table.cls, self.single_model(table)
        body = self._model(
            f"{cls}FlagsBody",
            [
                _F(
                    c.name,
                    "Optional[bool]",
                    "boolean",
                    False,
                    f"New value of {_human(c.name)}; omit to keep it.",
                    self.rng.random() < 0.5,
                )
                for c in bools
            ],
        )
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(table, "row", table.id_param)
        lines += [
            "        changes = body.model_dump(exclude_none=True)",
            "        if not changes:",
            '            raise HTTPException(status_code=400, detail="Provide at least one flag to change")',
            "        for flag_name, flag_value in changes.items():",
            "            setattr(row, flag_name, bool(flag_value))",
            "        row.updated_at = datetime.utcnow()",
            "        session.commit()",
            "        session.refresh(row)",
        ]
        lines += [f"        flagged = {self.serializer(table)}(row)"]
        lines += [f"        return {resp}({table.singular}=flagged)", "    finally:", "        session.close()"]
        params = [
            _P(
                table.id_param,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {table.hs} whose flags change.",
                self.rng.choice(table.ids()),
            )
        ]
        names = ", ".join(_human(c.name) for c in bools)
        return _E(
            "PATCH",
            f"/api/{table.slug}/{{{table.id_param}}}/flags",
            f"set_{table.singular}_flags",
            f"Set {table.hs} flags",
            f"Turn the yes/no flags of {_a(table.hs)} ({names}) on or off.",
            [table.slug],
            _camel(table.name),
            params,
            body,
            resp,
            lines,
            {table.name: [c.name for c in bools]},
        )

    def ep_breakdown(self, table: _Table, parent: _Table) -> _E:
        cls, pc, fk = table.cls, parent.cls, f"{parent.singular}_id"
        nums = table.numerics()[:1]
        enums = table.of("enum")[:1]
        params: list[_P] = []
        group_fields = [
            _F(fk, "int", "integer", True, f"ID of the {parent.hs}.", parent.rows[0]["id"]),
            _F(
                f"{parent.singular}_{parent.label.name}",
                "str",
                "string",
                True,
                f"{_human(parent.label.name).capitalize()} of the {parent.hs}.",
                str(parent.rows[0][parent.label.name]),
            ),
            _F(f"{table.singular}_count", "int", "integer", True, f"Number of {table.hp} of this {parent.hs}.", 3),
        ]
        select = [f"{pc}.id", f"{pc}.{parent.label.name}", f"func.count({cls}.id)"]
        if nums:
            group_fields.append(
                _F(
                    f"total_{nums[0].name}",
                    "float",
                    "float",
                    True,
                    f"Sum of {_human(nums[0].name)} over these {table.hp}.",
                    10.0,
                )
            )
            select.append(f"func.coalesce(func.sum({cls}.{nums[0].name}), 0)")
        gmodel = self._model(f"{cls}By{pc}Group", group_fields)
        resp = self._model(
            f"{cls}By{pc}Response",
            [
                _F(
                    "groups",
                    f"List[{gmodel}]",
                    "array",
                    True,
                    f"One entry per {parent.hs}.",
                    [],
                    ref=gmodel,
                    is_list=True,
                )
            ],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            "        base_query = (",
            f"            session.query({', '.join(select)})",
            f"            .join({cls}, {cls}.{fk} == {pc}.id)",
            "        )",
        ]
        if enums:
            c = enums[0]
            params.append(
                _P(
                    c.name,
                    "Optional[str]",
                    "string",
                    "query",
                    False,
                    f"Only count {table.hp} with this {_human(c.name)}.",
                    self.rng.choice(c.choices),
                )
            )
            lines += [
                f"        if {c.name} is not None:",
                f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
            ]
        params.append(
            _P(
                "min_count",
                "int",
                "integer",
                "query",
                False,
                f"Only include {parent.hp} with at least this many {table.hp}.",
                1,
                "1",
                ", ge=0",
            )
        )
        lines += [
            f"        base_query = base_query.group_by({pc}.id, {pc}.{parent.label.name})",
            f"        base_query = base_query.having(func.count({cls}.id) >= min_count)",
            f"        rows = base_query.order_by(func.count({cls}.id).desc(), {pc}.id.asc()).all()",
            f"        groups: List[{gmodel}] = []",
            "        for record in rows:",
            "            groups.append(",
            f"                {gmodel}(",
            f"                    {fk}=record[0],",
            f"                    {parent.singular}_{parent.label.name}=str(record[1]),",
            f"                    {table.singular}_count=int(record[2]),",
        ]
        if nums:
            lines.append(f"                    total_{nums[0].name}=float(record[3]),")
        lines += [
            "                )",
            "            )",
            f"        return {resp}(groups=groups)",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "GET",
            f"/api/{table.slug}/by-{parent.singular.replace('_', '-')}",
            f"count_{table.name}_by_{parent.singular}",
            f"Count {table.hp} per {parent.hs}",
            f"Count {table.hp} per {parent.hs}, with each {parent.hs}'s {_human(parent.label.name)}, to compare groups.",
            [table.slug, parent.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["id", fk] + [c.name for c in nums + enums], parent.name: ["id", parent.label.name]},
        )

    def _parent_example(self, table: _Table, parent: _Table, fk: str) -> int:
        with_children = sorted({r[fk] for r in table.rows})
        return self.rng.choice(with_children or parent.ids())

    def ep_nested_list(self, table: _Table, parent: _Table) -> _E:
        cls, item, fk = table.cls, self.entity_model(table), f"{parent.singular}_id"
        params = [
            _P(fk, "int", "integer", "path", True, f"ID of the {parent.hs}.", self._parent_example(table, parent, fk))
        ]
        fparams, flines, names = self._filters(table, rich=False, skip=(fk,))
        params += fparams + self._limit_params()
        resp = self.list_model(
            f"{parent.cls}{cls}ListResponse",
            table.name,
            table,
            [
                _F(fk, "int", "integer", True, f"ID of the {parent.hs}.", params[0].example),
                _F("total", "int", "integer", True, f"Number of matching {table.hp} of this {parent.hs}.", 2),
            ],
        )
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(parent, "parent", fk)
        lines += [f"        base_query = session.query({cls}).filter({cls}.{fk} == {fk})"] + flines
        lines += [
            "        total = base_query.count()",
            f"        rows = base_query.order_by({cls}.id.asc()).offset(offset).limit(limit).all()",
            f"        items: List[{item}] = [{self.serializer(table)}(row) for row in rows]",
            f"        return {resp}({fk}={fk}, {table.name}=items, total=total)",
            "    finally:",
            "        session.close()",
        ]
        filt = f", optionally filtered by {', '.join(names)}" if names else ""
        return _E(
            "GET",
            f"/api/{parent.slug}/{{{fk}}}/{table.slug}",
            f"list_{parent.singular}_{table.name}",
            f"List {table.hp} of {_a(parent.hs)}",
            f"List the {table.hp} that belong to one {parent.hs}{filt}.",
            [table.slug, parent.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["*"], parent.name: ["id"]},
        )

    def ep_nested_create(self, table: _Table, parent: _Table) -> _E:
        fk = f"{parent.singular}_id"
        body, _ = self.body_model(f"{parent.cls}{table.cls}CreateBody", table, table.writable(skip=(fk,)), "create")
        lines = self._create_lines(table, fk)
        params = [
            _P(
                fk,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {parent.hs} that gets the new {table.hs}.",
                self.rng.choice(parent.ids()),
            )
        ]
        return _E(
            "POST",
            f"/api/{parent.slug}/{{{fk}}}/{table.slug}",
            f"add_{table.singular}_to_{parent.singular}",
            f"Add {_a(table.hs)} to {_a(parent.hs)}",
            f"Create a new {table.hs} under the given {parent.hs}; the {parent.hs} ID is taken from the path.",
            [table.slug, parent.slug],
            _camel(table.name),
            params,
            body,
            self.single_model(table),
            lines,
            {table.name: [c.name for c in table.writable()], parent.name: ["id"]},
            status=201,
        )

    def ep_nested_summary(self, table: _Table, parent: _Table) -> _E:
        cls, fk = table.cls, f"{parent.singular}_id"
        nums, enums = table.numerics()[:2], table.of("enum")[:1]
        fields = [
            _F(fk, "int", "integer", True, f"ID of the {parent.hs}.", 1),
            _F(f"{table.singular}_count", "int", "integer", True, f"Number of {table.hp} of the {parent.hs}.", 4),
        ]
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(parent, "parent", fk)
        lines += [
            f"        base_query = session.query({cls}).filter({cls}.{fk} == {fk})",
            f"        {table.singular}_count = base_query.count()",
        ]
        kwargs = [f"{fk}={fk}", f"{table.singular}_count={table.singular}_count"]
        for c in nums:
            fields.append(_F(f"total_{c.name}", "float", "float", True, f"Sum of {_human(c.name)}.", 12.5))
            fields.append(_F(f"average_{c.name}", "Optional[float]", "float", False, f"Average {_human(c.name)}.", 3.5))
            lines += [
                f"        total_{c.name} = base_query.with_entities(func.coalesce(func.sum({cls}.{c.name}), 0)).scalar()",
                f"        average_{c.name} = base_query.with_entities(func.avg({cls}.{c.name})).scalar()",
            ]
            kwargs += [f"total_{c.name}=float(total_{c.name} or 0)", f"average_{c.name}=average_{c.name}"]
        for c in enums:
            fields.append(
                _F(
                    f"count_by_{c.name}",
                    "Dict[str, int]",
                    "object",
                    True,
                    f"Number of {table.hp} per {_human(c.name)}.",
                    {c.choices[0]: 1},
                )
            )
            lines += [
                f"        count_by_{c.name}: Dict[str, int] = {{}}",
                f"        for key, count in base_query.with_entities({cls}.{c.name}, func.count({cls}.id)).group_by({cls}.{c.name}).all():",
                f"            count_by_{c.name}[str(key)] = int(count)",
            ]
            kwargs.append(f"count_by_{c.name}=count_by_{c.name}")
        fields.append(
            _F(
                f"latest_{table.singular}_at",
                "Optional[datetime]",
                "string",
                False,
                f"Creation time of the newest {table.hs}.",
                "2025-01-15T10:00:00",
            )
        )
        lines.append(
            f"        latest_{table.singular}_at = base_query.with_entities(func.max({cls}.created_at)).scalar()"
        )
        lines.append(f"        if isinstance(latest_{table.singular}_at, str):")
        lines.append(f"            latest_{table.singular}_at = datetime.fromisoformat(latest_{table.singular}_at)")
        kwargs.append(f"latest_{table.singular}_at=latest_{table.singular}_at")
        resp = self._model(f"{parent.cls}{cls}Summary", fields)
        lines += (
            [f"        return {resp}("]
            + [f"            {k}," for k in kwargs]
            + ["        )", "    finally:", "        session.close()"]
        )
        what = ", ".join([f"{_human(c.name)} totals" for c in nums] + [f"counts per {_human(c.name)}" for c in enums])
        return _E(
            "GET",
            f"/api/{parent.slug}/{{{fk}}}/{table.slug}/summary",
            f"summarize_{parent.singular}_{table.name}",
            f"Summarize {table.hp} of {_a(parent.hs)}",
            f"Summarize the {table.hp} of one {parent.hs}: how many there are"
            + (f", {what}" if what else "")
            + " and the newest one.",
            [table.slug, parent.slug, "stats"],
            _camel(table.name),
            [
                _P(
                    fk,
                    "int",
                    "integer",
                    "path",
                    True,
                    f"ID of the {parent.hs} to summarize.",
                    self._parent_example(table, parent, fk),
                )
            ],
            None,
            resp,
            lines,
            {table.name: [fk] + [c.name for c in nums + enums], parent.name: ["id"]},
        )

    def ep_mine(self, table: _Table) -> _E:
        cls, item = table.cls, self.entity_model(table)
        params: list[_P] = []
        lines = [
            "    session = SessionLocal()",
            "    try:",
            "        user_id = 1",
            f"        base_query = session.query({cls}).filter({cls}.user_id == user_id)",
        ]
        enums = table.of("enum")
        if enums:
            c = enums[0]
            params.append(
                _P(
                    c.name,
                    "Optional[str]",
                    "string",
                    "query",
                    False,
                    f"Only return my {table.hp} with this {_human(c.name)}.",
                    self.rng.choice([r[c.name] for r in table.rows if r["user_id"] == 1] or list(c.choices)),
                )
            )
            lines += [
                f"        if {c.name} is not None:",
                f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
            ]
        params += self._limit_params()
        resp = self.list_model(
            f"My{cls}ListResponse",
            table.name,
            table,
            [
                _F("user_id", "int", "integer", True, "ID of the current user.", 1),
                _F("total", "int", "integer", True, f"Number of the current user's {table.hp}.", 2),
            ],
        )
        lines += [
            "        total = base_query.count()",
            f"        rows = base_query.order_by({cls}.created_at.desc(), {cls}.id.desc()).offset(offset).limit(limit).all()",
            f"        items: List[{item}] = [{self.serializer(table)}(row) for row in rows]",
            f"        return {resp}(user_id=user_id, {table.name}=items, total=total)",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "GET",
            f"/api/me/{table.slug}",
            f"list_my_{table.name}",
            f"List my {table.hp}",
            f"List the {table.hp} that belong to the current user, newest first"
            + (f", optionally filtered by {_human(enums[0].name)}." if enums else "."),
            [table.slug, "me"],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["*"]},
        )

    # ---- users -------------------------------------------------------------------------------

    def users_endpoints(self) -> list[_E]:
        users, rng = self.users, self.rng
        item, resp = self.entity_model(users), self.single_model(users)
        out: list[_E] = []
        me_lines = ["    session = SessionLocal()", "    try:", "        user_id = 1"]
        me_lines += self.fetch(users, "row", "user_id")
        me_lines += ["        current = " + item + "("] + self.ctor(item, users, "row", 8)[1:]
        me_lines += ["        return " + resp + "(user=current)", "    finally:", "        session.close()"]
        out.append(
            _E(
                "GET",
                "/api/users/me",
                "get_current_user",
                "Get my profile",
                "Retrieve the profile of the current user (user ID 1), including role and contact details.",
                ["users", "me"],
                "Users",
                [],
                None,
                resp,
                me_lines,
                {"users": ["*"]},
            )
        )
        owned = [t for t in self.tables if t.owned]
        if owned:
            fields = [_F("user_id", "int", "integer", True, "ID of the current user.", 1)]
            lines = ["    session = SessionLocal()", "    try:", "        user_id = 1"]
            lines += self.fetch(users, "row", "user_id")
            for t in owned:
                fields.append(
                    _F(f"{t.name}_count", "int", "integer", True, f"How many {t.hp} the current user has.", 2)
                )
                lines.append(
                    f"        {t.name}_count = session.query({t.cls}).filter({t.cls}.user_id == user_id).count()"
                )
            smodel = self._model("CurrentUserSummary", fields)
            lines += [f"        return {smodel}(", "            user_id=user_id,"]
            lines += [f"            {t.name}_count={t.name}_count," for t in owned]
            lines += ["        )", "    finally:", "        session.close()"]
            out.append(
                _E(
                    "GET",
                    "/api/users/me/summary",
                    "get_current_user_summary",
                    "Summarize my records",
                    f"Count the {', '.join(t.hp for t in owned)} that belong to the current user.",
                    ["users", "me"],
                    "Users",
                    [],
                    None,
                    smodel,
                    lines,
                    {"users": ["id"], **{t.name: ["user_id"] for t in owned}},
                )
            )
        if rng.random() < 0.8:
            ep = self.ep_list(users)
            ep.desc = "List user accounts, optionally filtered by username text, role or active flag; results are sorted and paginated."
            ep.summary, ep.tags, ep.group = "List users", ["users"], "Users"
            out.append(ep)
        if rng.random() < 0.8:
            ep = self.ep_get(users)
            ep.desc = "Retrieve a single user account by its ID, including role and contact details."
            ep.summary, ep.tags, ep.group = "Get a user by ID", ["users"], "Users"
            out.append(ep)
        cols = [c for c in users.writable() if c.name in ("email", "full_name", "phone", "timezone")]
        body, _ = self.body_model("CurrentUserPatchBody", users, cols, "patch")
        lines = ["    session = SessionLocal()", "    try:", "        user_id = 1"]
        lines += self.fetch(users, "row", "user_id")
        lines += [
            "        updates = body.model_dump(exclude_unset=True)",
            '        if "email" in updates and updates["email"] is None:',
            '            raise HTTPException(status_code=400, detail="email cannot be null")',
            '        if "full_name" in updates and updates["full_name"] is None:',
            '            raise HTTPException(status_code=400, detail="full_name cannot be null")',
        ]
        lines += self.enum_checks(users, "updates", cols)
        lines += self.unique_checks(users, "updates", "user_id", optional=True, only=cols)
        lines += [
            "        for field_name, new_value in updates.items():",
            "            setattr(row, field_name, new_value)",
            "        row.updated_at = datetime.utcnow()",
            "        session.commit()",
            "        session.refresh(row)",
        ]
        lines += ["        updated = " + item + "("] + self.ctor(item, users, "row", 8)[1:]
        lines += ["        return " + resp + "(user=updated)", "    finally:", "        session.close()"]
        out.append(
            _E(
                "PATCH",
                "/api/users/me",
                "update_current_user",
                "Update my profile",
                f"Update the current user's profile ({', '.join(_human(c.name) for c in cols)}); omitted fields stay unchanged.",
                ["users", "me"],
                "Users",
                [],
                body,
                resp,
                lines,
                {"users": [c.name for c in cols]},
            )
        )
        return out

    # ---- selection ---------------------------------------------------------------------------

    def select_endpoints(self) -> None:
        rng = self.rng
        entities = self.tables[1:]
        per: dict[str, dict[str, _E]] = {}

        def put(table: _Table, key: str, ep: _E | None) -> None:
            if ep is not None:
                per.setdefault(table.name, {})[key] = ep

        # Build all candidates. Within an entity, static collection routes come before `{id}` routes.
        for t in entities:
            put(t, "list", self.ep_list(t))
            put(t, "create", self.ep_create(t))
            put(t, "stats", self.ep_stats(t))
            put(t, "search", self.ep_search(t))
            put(t, "top", self.ep_top(t))
            put(t, "recent", self.ep_recent(t))
            put(t, "bulk", self.ep_bulk(t))
            for p in t.parents:
                put(t, f"by:{p.name}", self.ep_breakdown(t, p))
            if t.owned:
                put(t, "mine", self.ep_mine(t))
            put(t, "get", self.ep_get(t))
            put(t, "replace", self.ep_replace(t))
            put(t, "patch", self.ep_patch(t))
            put(t, "delete", self.ep_delete(t))
            put(t, "set_enum", self.ep_set_enum(t))
            put(t, "flags", self.ep_flags(t))
            for p in t.parents:
                put(t, f"nlist:{p.name}", self.ep_nested_list(t, p))
                put(t, f"ncreate:{p.name}", self.ep_nested_create(t, p))
                put(t, f"nsum:{p.name}", self.ep_nested_summary(t, p))
        users = self.users_endpoints()
        mandatory = {(t.name, k) for t in entities for k in ("list", "get", "create", "patch", "delete")}
        optional = [(t.name, k) for t in entities for k in per[t.name] if (t.name, k) not in mandatory]
        n_users = len(users)
        lo = max(20, len(mandatory) + n_users)
        hi = min(60, len(mandatory) + n_users + len(optional))
        target = min(hi, max(lo, int(len(entities) * rng.uniform(5.5, 9.0)) + n_users))
        rng.shuffle(optional)
        self._per, self._users_eps, self._entities = per, users, entities
        self._mandatory = mandatory
        self._optional = optional[: max(0, target - len(mandatory) - n_users)]
        self._all_models = dict(self.models)
        self._apply_selection()

    def drop_one(self) -> bool:
        """Drop the last-drawn optional endpoint (to keep the module under the size cap)."""
        if not self._optional or len(self.endpoints) <= 20:
            return False
        self._optional.pop()
        self._apply_selection()
        return True

    def _apply_selection(self) -> None:
        chosen = self._mandatory | set(self._optional)
        self.endpoints = list(self._users_eps)
        for t in self._entities:
            for key, ep in self._per[t.name].items():
                if (t.name, key) in chosen:
                    self.endpoints.append(ep)
        self.models = dict(self._all_models)
        # Only models reachable from chosen endpoints are emitted.
        needed: set[str] = set()

        def need(name: str) -> None:
            if name in needed:
                return
            needed.add(name)
            for f in self.models[name].fields:
                if f.ref:
                    need(f.ref)

        for ep in self.endpoints:
            need(ep.resp)
            if ep.body:
                need(ep.body)
            for line in ep.lines:
                for m in re.findall(r"\b([A-Z][A-Za-z0-9]*(?:Model|Response|Summary|Item|Group))\(", line):
                    if m in self.models:
                        need(m)
        self.models = {k: v for k, v in self.models.items() if k in needed}

    # ---- rendering ---------------------------------------------------------------------------

    def _field_line(self, f: _F) -> str:
        default = "..." if f.required else f.default
        if self.style == "example":
            extra = f"example={_py(f.example)}"
        else:
            extra = f'json_schema_extra={{"example": {_py(f.example)}}}'
        return f"    {f.name}: {f.ann} = Field({default}, description={_py(f.desc)}, {extra})"

    def _param_line(self, p: _P) -> str:
        ex = f"example={_py(p.example)}" if self.style == "example" else f"examples=[{_py(p.example)}]"
        if p.loc == "path":
            return f"    {p.name}: {p.ann} = Path(..., description={_py(p.desc)}, {ex}),"
        default = "..." if p.required else p.default
        return f"    {p.name}: {p.ann} = Query({default}, description={_py(p.desc)}, {ex}{p.extra}),"

    def render_code(self) -> str:
        out: list[str] = []
        w = out.append
        w("from fastapi import FastAPI, HTTPException, Query, Path, Body")
        w("from pydantic import BaseModel, Field, ConfigDict")
        w("from typing import Optional, List, Dict")
        w("from sqlalchemy import (")
        for name in (
            "create_engine",
            "Column",
            "Integer",
            "String",
            "Text",
            "Float",
            "Boolean",
            "DateTime",
            "ForeignKey",
            "Index",
            "func",
            "or_",
        ):
            w(f"    {name},")
        w(")")
        w("from sqlalchemy.orm import declarative_base, sessionmaker")
        w("from datetime import datetime, timedelta")
        w("import os")
        w("")
        w(f'database_url = os.getenv("DATABASE_PATH", "sqlite:///./{self.name}.db")')
        w("")
        w("engine = create_engine(")
        w("    database_url,")
        w('    connect_args={"check_same_thread": False} if database_url.startswith("sqlite") else {},')
        w(")")
        w("SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)")
        w("")
        w("Base = declarative_base()")
        w("")
        for t in self.tables:
            w("")
            w(f"class {t.cls}(Base):")
            w(f'    __tablename__ = "{t.name}"')
            w("    id = Column(Integer, primary_key=True)")
            for c in t.cols:
                typ = "Text" if c.kind == "text" else _ORM_TYPE[c.sql]
                args = [typ]
                if c.kind == "fk":
                    args.append(f'ForeignKey("{c.ref.name}.id", ondelete="CASCADE")')
                kw = []
                if not c.nullable:
                    kw.append("nullable=False")
                if c.unique:
                    kw.append("unique=True")
                if c.kind == "bool":
                    kw.append("default=False")
                if c.kind == "ts":
                    kw.append("default=datetime.utcnow")
                    if c.name == "updated_at":
                        kw.append("onupdate=datetime.utcnow")
                w(f"    {c.name} = Column({', '.join(args + kw)})")
            w("")
        w("")
        for t in self.tables:
            for name, cols, unique in t.indexes:
                cols_py = ", ".join(f"{t.cls}.{c}" for c in cols)
                w(f'Index("{name}", {cols_py}{", unique=True" if unique else ""})')
        w("")
        w("Base.metadata.create_all(engine)")
        w("")
        consts = [(self.enum_const(t, c), c.choices) for t in self.tables for c in t.of("enum")]
        if consts:
            w("")
            for name, choices in consts:
                w(f"{name} = ({', '.join(_py(v) for v in choices)},)")
            w("")
        w(f'app = FastAPI(title={_py(self.title + " API")}, version="1.0.0", description={_py(self._app_desc())})')
        w("")
        for m in self.models.values():
            w("")
            w(f"class {m.name}(BaseModel):")
            if m.orm:
                w("    model_config = ConfigDict(from_attributes=True)")
            for f in m.fields:
                w(self._field_line(f))
            w("")
        used = "\n".join(line for ep in self.endpoints for line in ep.lines)
        for t in self.tables:
            fn = f"serialize_{t.singular}"
            if f"{fn}(" not in used:
                continue
            item = f"{t.cls}Model"
            w("")
            w(f"def {fn}(row: {t.cls}) -> {item}:")
            out.extend(["    return " + self.ctor(item, t, "row", 4)[0].strip()] + self.ctor(item, t, "row", 4)[1:])
            w("")
        for ep in self.endpoints:
            w("")
            w(f"@app.{ep.method.lower()}(")
            w(f'    "{ep.path}",')
            w(f"    response_model={ep.resp},")
            if ep.status != 200:
                w(f"    status_code={ep.status},")
            w(f"    summary={_py(ep.summary)},")
            w(f"    description={_py(ep.desc)},")
            w(f"    tags={_py(ep.tags)},")
            w(f'    operation_id="{ep.op}",')
            w(")")
            sig = [self._param_line(p) for p in ep.params]
            if ep.body:
                sig.append(f'    body: {ep.body} = Body(..., description="JSON object with the request fields."),')
            if sig:
                w(f"async def {ep.op}(")
                out.extend(sig)
                w(f") -> {ep.resp}:")
            else:
                w(f"async def {ep.op}() -> {ep.resp}:")
            out.extend(ep.lines)
            w("")
        w("")
        w('if __name__ == "__main__":')
        w("    import uvicorn")
        w("")
        w('    host = os.getenv("HOST", "127.0.0.1")')
        w('    port = int(os.getenv("PORT", "8000"))')
        w("    uvicorn.run(app, host=host, port=port)")
        return "\n".join(out) + "\n"

    def _app_desc(self) -> str:
        return (
            f"Synthetic {self.domain.replace('_', ' ')} environment: manage "
            + ", ".join(t.hp for t in self.tables[1:])
            + f" {self.where}. The acting user is user 1."
        )

    def render_db(self) -> dict[str, Any]:
        tables = []
        for t in self.tables:
            lines = ["    id INTEGER PRIMARY KEY"]
            fks = []
            for c in t.cols:
                parts = [c.name, c.sql]
                if not c.nullable:
                    parts.append("NOT NULL")
                if c.unique:
                    parts.append("UNIQUE")
                if c.kind == "enum":
                    parts.append("CHECK (" + c.name + " IN (" + ",".join(_sql_literal(v) for v in c.choices) + "))")
                if c.kind == "bool":
                    parts.append(f"DEFAULT 0 CHECK ({c.name} IN (0,1))")
                if c.kind == "ts":
                    parts.append("DEFAULT CURRENT_TIMESTAMP")
                lines.append("    " + " ".join(parts))
                if c.kind == "fk":
                    fks.append(f"    FOREIGN KEY ({c.name}) REFERENCES {c.ref.name}(id) ON DELETE CASCADE")
            ddl = f"CREATE TABLE {t.name} (\n" + ",\n".join(lines + fks) + "\n);"
            idx = [f"CREATE {'UNIQUE ' if u else ''}INDEX {n} ON {t.name}({', '.join(cs)});" for n, cs, u in t.indexes]
            tables.append({"name": t.name, "ddl": ddl, "indexes": idx})
        return {"tables": tables}

    def render_sample(self) -> dict[str, Any]:
        tables = []
        for t in self.tables:
            cols = ["id"] + [c.name for c in t.cols]
            stmts = []
            for r in t.rows:
                values = ", ".join(_sql_literal(r[c]) for c in cols)
                stmts.append(f"INSERT INTO {t.name} ({', '.join(cols)}) VALUES ({values});")
            tables.append({"table_name": t.name, "insert_statements": stmts})
        return {"tables": tables}

    def _response_spec(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.models[name].fields:
            if f.ref and f.is_list:
                out[f.name] = {"type": "array", "description": f.desc, "items": self._response_spec(f.ref)}
            elif f.ref:
                out[f.name] = {"type": "object", "description": f.desc, **self._response_spec(f.ref)}
            else:
                out[f.name] = {"type": f.stype, "description": f.desc, "example": f.example}
        return out

    def render_spec(self) -> dict[str, Any]:
        groups: dict[str, list[dict[str, Any]]] = {}
        for ep in self.endpoints:
            params: dict[str, Any] = {}
            for p in ep.params:
                params[p.name] = {
                    "type": p.stype,
                    "param_type": p.loc,
                    "required": p.required,
                    "description": p.desc,
                    "example": p.example,
                }
            if ep.body:
                for f in self.models[ep.body].fields:
                    params[f.name] = {
                        "type": f.stype,
                        "param_type": "body",
                        "required": f.required,
                        "description": f.desc,
                        "example": f.example,
                    }
            fields: dict[str, list[str]] = {}
            for tname, cols in ep.tables.items():
                if cols == ["*"]:
                    t = next(t for t in self.tables if t.name == tname)
                    cols = ["id"] + [c.name for c in t.cols]
                fields[tname] = cols
            groups.setdefault(ep.group, []).append(
                {
                    "path": ep.path,
                    "method": ep.method,
                    "summary": ep.summary,
                    "description": ep.desc,
                    "operation_id": ep.op,
                    "tags": ep.tags,
                    "request_params": params,
                    "response": self._response_spec(ep.resp),
                    "required_tables": list(ep.tables),
                    "required_fields": fields,
                }
            )
        return {"api_groups": [{"group_name": g, "endpoints": eps} for g, eps in groups.items()]}


def _check_vocabulary() -> None:
    """Fail loudly (at import) if the vocabulary breaks an invariant the generator relies on."""
    keys = set()
    for key, _title, _where, roles, entities in _DOMAINS:
        assert key not in keys, key
        keys.add(key)
        assert roles, key
        seen: set[str] = set()
        for singular, plural, parents, colspec, _words in entities:
            assert singular not in seen and singular != "user" and plural != "users", (key, singular)
            for name in (singular, plural):
                assert name.isidentifier() and not keyword.iskeyword(name), (key, name)
            assert _camel(singular) not in _TAKEN_CLASSES, (key, singular)
            for p in parents.split():
                assert p == "user" or p in seen, (key, singular, p)
            seen.add(singular)
            kinds = {}
            for item in colspec.split():
                name, kind = item.split(":")[:2]
                assert name.isidentifier() and not keyword.iskeyword(name), (key, singular, name)
                assert name not in _RESERVED and not name.startswith("model_"), (key, singular, name)
                assert not name.endswith("_id"), (key, singular, name)
                assert name not in kinds, (key, singular, name)
                kinds[name] = kind
            assert "enum" in kinds.values(), (key, singular)
            assert any(k in ("int", "real", "money") for k in kinds.values()), (key, singular)
    assert len(keys) >= 20


_check_vocabulary()

# Upper bound on the size of a generated module (AWM modules are ~1,000-3,000 lines).
_MAX_LINES = 3000


def generate_scenario(index: int, seed: int) -> dict[str, Any]:
    """Build scenario number ``index`` of the data set seeded by ``seed``.

    Returns one row of the arcee layout: ``scenario`` (``synthetic_<domain>_<index:04d>``), ``env``
    (server code), ``db``, ``sample`` and ``spec`` (JSON strings) and ``val_report`` (None).
    """
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    b = _Builder(int(index), int(seed))
    b.select_endpoints()
    env = b.render_code()
    while env.count("\n") > _MAX_LINES and b.drop_one():
        env = b.render_code()
    return {
        "scenario": b.name,
        "env": env,
        "db": json.dumps(b.render_db(), ensure_ascii=False),
        "sample": json.dumps(b.render_sample(), ensure_ascii=False),
        "spec": json.dumps(b.render_spec(), ensure_ascii=False),
        "val_report": None,
    }


def iter_scenarios(n: int, seed: int) -> Iterator[dict[str, Any]]:
    """Yield scenarios ``0..n-1`` one at a time (nothing is kept in memory)."""
    for index in range(n):
        yield generate_scenario(index, seed)


def write_dataset(n: int, seed: int, out_dir: Path, shard_size: int = 250) -> list[Path]:
    """Write ``n`` scenarios as ``out_dir/scenarios-00000.jsonl``, ... and return the shard paths.

    Streams: one scenario is in memory at a time. Shards of earlier runs in ``out_dir`` (files named
    ``scenarios-NNNNN.jsonl``) are removed first so a reader never mixes two data sets. Each shard
    is written to a temporary name and renamed when complete.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(out_dir.iterdir()):
        if _SHARD_RE.match(old.name) and old.is_file():
            old.unlink()
    paths: list[Path] = []
    rows = iter_scenarios(n, seed)
    for shard in range((n + shard_size - 1) // shard_size):
        path = out_dir / SHARD_PATTERN.format(shard)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            for _ in range(min(shard_size, n - shard * shard_size)):
                fh.write(json.dumps(next(rows), ensure_ascii=False))
                fh.write("\n")
        tmp.replace(path)
        paths.append(path)
    return paths
