"""``optimiser instances``, ``functions``, ``councils`` and ``areas``: what there is to choose from."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..report.terminal import say
from .common import LIST_EXIT, add_command, load_instance_and_model


def register(sub) -> dict:
    p = add_command(sub, "instances", "list the shipped instances", "List the instances found by name.",
                    ["optimiser instances"], LIST_EXIT)
    p.add_argument("--dir", default=None, help="folder holding instance folders (default ./instances, then the shipped ones)")

    p = add_command(sub, "functions", "list a savings model's functions",
                    "List the functions of a savings model: the ids --functions and --exclude take, titles, tiers.",
                    ["optimiser functions", "optimiser functions england-2023", "optimiser functions --model uk-central-sceptical"],
                    LIST_EXIT)
    p.add_argument("instance", nargs="?", help="an instance: its model, and how many of its councils take part")
    p.add_argument("--model", metavar="NAME|PATH", help="savings model (default: the instance's, or the shipped instances')")

    p = add_command(sub, "councils", "list an instance's councils", "List councils: code, name, tier, county, region, population.",
                    ["optimiser councils england-2023 --area Suffolk", "optimiser councils uk-2023 --area Wales"], LIST_EXIT, names=True)
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    p.add_argument("--area", action="append", metavar="AREA[;AREA...]", help="only the councils of these areas")

    p = add_command(sub, "areas", "list the areas --area takes",
                    "List the areas of an instance --area takes: nations, regions, combined authorities,\n"
                    "metropolitan counties, counties, with codes and how many councils each holds.",
                    ["optimiser areas england-2023"], LIST_EXIT)
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    return {"instances": instances, "functions": functions, "councils": councils, "areas": areas}


def instances(args) -> int:
    from ..io.instance import load_instance, shipped_instances
    from ..io.shipped import instance_homes

    homes = [Path(args.dir)] if args.dir else instance_homes()
    rows = []
    for path in shipped_instances(homes):
        inst = load_instance(path)
        nations = inst.councils["nation"].value_counts()
        rows.append(f"{inst.name:<16} {len(inst.councils):>5} councils  {inst.graph.number_of_edges():>5} borders  "
                    f"{', '.join(f'{n} {c}' for n, c in nations.items())}  {path}")
    if not rows:
        raise InputError(homes[0], "no instance folders found")
    say("\n".join(rows))
    return 0


def functions(args) -> int:
    from ..io.instance import load_instance, shipped_instances
    from ..io.model import load_model
    from ..report.listings import functions_listing

    instance = None
    if args.instance:
        instance, model = load_instance_and_model(args)
    elif args.model:
        model = load_model(args.model)
    else:  # the model the shipped instances use
        refs = sorted({load_instance(p).model_ref for p in shipped_instances()} - {None})
        if len(refs) != 1:
            raise InputError("--model", f"name a model or an instance (the shipped instances use {', '.join(refs) or 'none'})")
        model = load_model(refs[0])
    say(functions_listing(model, instance))
    return 0


def councils(args) -> int:
    from ..io.instance import load_instance
    from ..report.listings import councils_listing

    say(councils_listing(load_instance(args.instance), tuple(args.area or ())))
    return 0


def areas(args) -> int:
    from ..io.instance import load_instance
    from ..report.listings import areas_listing

    say(areas_listing(load_instance(args.instance)))
    return 0
