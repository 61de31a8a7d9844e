"""Seeded company generation: departments, colleagues, managers, roles, personas, hours, rooms.

The size and the department structure vary with the seed. Three departments are always present
(Engineering, Finance, HR) because reference families route clues through them; the rest are drawn
from a pool, and sizes vary.
"""

from __future__ import annotations

import random

from pydantic import BaseModel, Field

from firstday.timefmt import fmt

FIRST_NAMES = (
    "Aisha Alejandro Amara Anders Anika Arjun Astrid Aylin Bao Beatriz Bilal Carmen Chen Chiara Dana Darius "
    "Deepa Diego Elif Emeka Emil Esra Fatima Felix Freya Gabriel Grace Hana Hamza Hugo Ines Ingrid Isaac "
    "Ivana Jamal Jana Javier Jin Joao Jonas Julia Kai Kaito Kavya Kenji Lara Leila Lena Liam Lucia Luka "
    "Maia Malik Marco Maria Mateo Mei Mila Mina Nadia Naomi Nikhil Nina Noor Olga Omar Oskar Paula Pedro "
    "Priya Rafael Rania Ravi Rosa Ruth Sami Sara Selin Sofia Soren Sunita Tariq Thea Tomas Uma Valentina "
    "Vera Viktor Wei Yara Yusuf Zainab Zoe Ahmed Bruno Clara Dmitri Eva Farah"
).split()
LAST_NAMES = (
    "Abebe Adeyemi Alvarez Andersen Bakker Banerjee Becker Bianchi Brennan Castillo Chandra Chen Costa Dahl "
    "Diallo Dubois Duarte Eriksen Fischer Fontaine Garcia Gupta Haddad Hansen Hoffmann Horvat Ibrahim Ito "
    "Jensen Kang Kaur Khan Kim Kowalski Kruger Larsen Lee Lindqvist Lopez Mahmoud Mancini Martin Mendes "
    "Moreau Morales Mueller Murphy Nakamura Nguyen Novak Okafor Olsen Ortiz Park Patel Pereira Petrov Quinn "
    "Rahman Reyes Rossi Sato Schmidt Sharma Silva Singh Sorensen Suzuki Tanaka Torres Tran Varga Vasquez "
    "Wagner Walsh Weber Wong Yamamoto Yilmaz Zhang Zimmermann Novak Ahmadi Baptiste Conti Delgado Farouk"
).split()

# department name -> role titles for its members (the head's title is derived from the name)
DEPARTMENT_ROLES: dict[str, tuple[str, ...]] = {
    "Engineering": ("Software Engineer", "Senior Engineer", "Site Reliability Engineer", "QA Engineer"),
    "Finance": ("Accountant", "Financial Analyst", "Controller", "Accounts Payable Specialist"),
    "HR": ("HR Generalist", "Recruiter", "People Partner", "Payroll Specialist"),
    "Sales": ("Account Executive", "Sales Representative", "Sales Analyst", "Key Account Manager"),
    "Marketing": ("Marketing Specialist", "Content Strategist", "Growth Analyst", "Brand Manager"),
    "Product": ("Product Manager", "Product Analyst", "UX Researcher", "Product Owner"),
    "Operations": ("Operations Analyst", "Logistics Coordinator", "Supply Planner", "Operations Associate"),
    "Legal": ("Counsel", "Paralegal", "Compliance Officer", "Contracts Manager"),
    "Procurement": ("Buyer", "Procurement Analyst", "Category Manager", "Vendor Manager"),
    "Customer Support": ("Support Agent", "Support Lead", "Customer Success Manager", "Escalation Engineer"),
    "Data Science": ("Data Scientist", "Data Engineer", "Analytics Engineer", "ML Engineer"),
    "Design": ("Product Designer", "Visual Designer", "Design Researcher", "Illustrator"),
    "IT": ("IT Administrator", "Helpdesk Technician", "Network Engineer", "Systems Analyst"),
    "Facilities": ("Facilities Coordinator", "Office Manager", "Workplace Assistant", "Receptionist"),
    "Research": ("Research Scientist", "Research Engineer", "Lab Manager", "Research Analyst"),
}
CORE_DEPARTMENTS = ("Engineering", "Finance", "HR")

TRAITS = (
    "precise",
    "friendly",
    "busy",
    "laconic",
    "chatty",
    "methodical",
    "helpful",
    "direct",
    "cautious",
    "pragmatic",
    "formal",
    "relaxed",
    "detail-oriented",
    "curious",
    "patient",
    "quick",
)
INTERESTS = (
    "cycling",
    "chess",
    "baking",
    "jazz",
    "hiking",
    "board games",
    "photography",
    "gardening",
    "running",
    "sci-fi novels",
    "football",
    "podcasts",
    "pottery",
    "climbing",
    "film",
    "travel",
)
COMPANY_PREFIX = (
    "Northwind",
    "Bluepeak",
    "Helix",
    "Quarry",
    "Lumen",
    "Orchard",
    "Atlas",
    "Cobalt",
    "Juniper",
    "Meridian",
    "Harbor",
    "Vantage",
    "Solstice",
    "Keystone",
    "Tidewater",
    "Pinecrest",
)
COMPANY_SUFFIX = ("Labs", "Logistics", "Systems", "Retail", "Analytics", "Foods", "Energy", "Health")
ROOM_NAMES = (
    "Aurora",
    "Basalt",
    "Cedar",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
)


class Employee(BaseModel):
    handle: str = Field(description="unique id used to message this colleague, e.g. 'dana.kim'")
    name: str
    department: str
    role: str
    manager: str | None = Field(default=None, description="handle of this colleague's manager")
    persona: str
    work_start: int = Field(description="minute of day")
    work_end: int
    reply_delay: int = Field(description="minutes before a reply to a message arrives")

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    def directory_entry(self) -> dict[str, str]:
        return {
            "handle": self.handle,
            "name": self.name,
            "department": self.department,
            "role": self.role,
            "manager": self.manager or "",
        }

    def profile(self) -> dict[str, str]:
        return {
            **self.directory_entry(),
            "persona": self.persona,
            "working_hours": f"{fmt(self.work_start)}-{fmt(self.work_end)}",
        }


class Department(BaseModel):
    name: str
    head: str
    members: list[str]


class Room(BaseModel):
    name: str
    capacity: int
    floor: int


class Company(BaseModel):
    name: str
    departments: list[Department]
    employees: list[Employee]
    rooms: list[Room]
    trainee: Employee
    mentor: str

    def employee(self, handle: str) -> Employee:
        for e in self.employees:
            if e.handle == handle:
                return e
        raise KeyError(handle)

    def department(self, name: str) -> Department:
        for d in self.departments:
            if d.name == name:
                return d
        raise KeyError(name)

    def members_of(self, department: str) -> list[Employee]:
        return [self.employee(h) for h in self.department(department).members]

    def heads(self) -> list[Employee]:
        return [self.employee(d.head) for d in self.departments]

    def handles(self) -> list[str]:
        return [e.handle for e in self.employees]


def _handle(name: str, taken: set[str]) -> str:
    base = name.lower().replace(" ", ".")
    handle, n = base, 2
    while handle in taken:
        handle, n = f"{base}{n}", n + 1
    taken.add(handle)
    return handle


def generate_company(rng: random.Random, min_size: int = 18, max_size: int = 60) -> Company:
    """Build a company from ``rng``. Departments, headcounts, names and hours all vary with the seed."""
    optional = [d for d in DEPARTMENT_ROLES if d not in CORE_DEPARTMENTS]
    n_extra = rng.randint(2, min(8, len(optional)))
    dept_names = list(CORE_DEPARTMENTS) + rng.sample(optional, n_extra)
    target = rng.randint(min_size, max_size)
    # headcount per department (head included), at least 3 so every team has a manager and two reports
    sizes = [3] * len(dept_names)
    for _ in range(max(0, target - sum(sizes))):
        sizes[rng.randrange(len(sizes))] += 1
    used_names: set[str] = set()
    taken: set[str] = set()

    def new_person() -> tuple[str, str]:
        while True:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if name not in used_names:
                used_names.add(name)
                return name, _handle(name, taken)

    def hours() -> tuple[int, int]:
        start = rng.choice((480, 510, 540, 540, 570))
        return start, start + rng.choice((480, 510, 540))

    def persona(dept: str) -> str:
        a, b = rng.sample(TRAITS, 2)
        years = rng.randint(1, 14)
        return f"{a.capitalize()} and {b}; has been in {dept} for {years} years; enjoys {rng.choice(INTERESTS)}."

    ceo_name, ceo_handle = new_person()
    ws, we = hours()
    employees = [
        Employee(
            handle=ceo_handle,
            name=ceo_name,
            department="Executive",
            role="Chief Executive Officer",
            manager=None,
            persona=persona("the executive team"),
            work_start=ws,
            work_end=we,
            reply_delay=rng.randint(10, 25),
        )
    ]
    departments: list[Department] = []
    for dept, size in zip(dept_names, sizes, strict=True):
        head_name, head_handle = new_person()
        ws, we = hours()
        head_title = f"Head of {dept}" if rng.random() < 0.5 else f"{dept} Manager"
        employees.append(
            Employee(
                handle=head_handle,
                name=head_name,
                department=dept,
                role=head_title,
                manager=ceo_handle,
                persona=persona(dept),
                work_start=ws,
                work_end=we,
                reply_delay=rng.randint(4, 15),
            )
        )
        members = [head_handle]
        for _ in range(size - 1):
            name, handle = new_person()
            ws, we = hours()
            employees.append(
                Employee(
                    handle=handle,
                    name=name,
                    department=dept,
                    role=rng.choice(DEPARTMENT_ROLES[dept]),
                    manager=head_handle,
                    persona=persona(dept),
                    work_start=ws,
                    work_end=we,
                    reply_delay=rng.randint(2, 12),
                )
            )
            members.append(handle)
        departments.append(Department(name=dept, head=head_handle, members=members))
    departments.insert(0, Department(name="Executive", head=ceo_handle, members=[ceo_handle]))

    trainee_dept = rng.choice([d for d in dept_names if d not in ("HR",)])
    mentor = next(d.head for d in departments if d.name == trainee_dept)
    t_name, t_handle = new_person()
    trainee = Employee(
        handle=t_handle,
        name=t_name,
        department=trainee_dept,
        role="Trainee",
        manager=mentor,
        persona="New trainee, first week.",
        work_start=540,
        work_end=1080,
        reply_delay=0,
    )
    rooms_n = rng.randint(4, 8)
    room_names = rng.sample(ROOM_NAMES, rooms_n)
    capacities = sorted(rng.choice((4, 6, 8, 10, 12, 16, 20)) for _ in range(rooms_n))
    capacities[-1] = max(capacities[-1], 20)  # one room always fits a large meeting
    rooms = [Room(name=n, capacity=c, floor=rng.randint(1, 5)) for n, c in zip(room_names, capacities, strict=True)]
    name = f"{rng.choice(COMPANY_PREFIX)} {rng.choice(COMPANY_SUFFIX)}"
    return Company(name=name, departments=departments, employees=employees, rooms=rooms, trainee=trainee, mentor=mentor)
