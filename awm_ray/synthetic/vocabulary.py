"""Domain vocabulary of the synthetic generator: domains, entities, their columns and the words values are made of.

``_check_vocabulary()`` runs at import and fails loudly if an entry breaks an invariant the generator
relies on.
"""

from __future__ import annotations

import keyword

from .schema import _camel


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
